import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Lowest port freePort hands out; the stacks' own fixed ports (profiles.ts: 13306-26381) lie below it. */
export const FREE_PORTS_FROM = 27_000;
const LOWEST = FREE_PORTS_FROM;
/** A claim older than this is forgotten: a port is bound seconds after it is handed out. */
const CLAIM_TTL_MS = 10 * 60_000;

export interface PortOptions {
  /** Where the machine-wide claims live (default: <tmpdir>/orderflow-ports). */
  claims?: string;
  /** Upper bound, exclusive (default: the low end of Linux's ephemeral range, read at call time). */
  below?: number;
  random?: () => number;
}

/** The low end of the range the kernel takes outgoing connections' local ports from. */
export function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1024 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** Takes `port` for this caller unless another process claimed it within the TTL. */
function claim(dir: string, port: number): boolean {
  const file = path.join(dir, String(port));
  try {
    fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    try {
      if (Date.now() - fs.statSync(file).mtimeMs < CLAIM_TTL_MS) return false;
      fs.rmSync(file, { force: true }); // stale: whoever removes it first, the O_EXCL write below decides
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * A port a service started soon after can listen on (127.0.0.1). Chosen below the kernel's ephemeral
 * range, so no outgoing connection (a pool's, a client's) can take it between this call and the
 * service's bind, and claimed machine-wide for ten minutes (an O_EXCL file per port), so two test
 * processes never get the same one. (Port 0 handed out by the kernel is from the ephemeral range: in
 * CI a gateway once lost its port that way to some connection while the other services started.)
 */
export async function freePort(options: PortOptions = {}): Promise<number> {
  const below = options.below ?? ephemeralLow();
  const random = options.random ?? Math.random;
  if (below - LOWEST < 100) return kernelPort(); // an unusual ephemeral range: no room below it
  const dir = options.claims ?? path.join(os.tmpdir(), 'orderflow-ports');
  fs.mkdirSync(dir, { recursive: true });
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const port = LOWEST + Math.floor(random() * (below - LOWEST));
    if (claim(dir, port) && (await canListen(port))) return port;
  }
  throw new Error(`no free port in ${LOWEST}-${below - 1} after 1000 tries (claims in ${dir})`);
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
