import fs from 'node:fs';

/**
 * Which process listens on a TCP port, from Linux's /proc alone (for `--against running`, where the
 * processes were started by another command): /proc/net/tcp and tcp6 give the listening socket's inode,
 * and the process holding it has a /proc/<pid>/fd link `socket:[inode]`.
 */

const LISTEN = '0A';

/** The inodes of sockets listening on `port`, from the text of /proc/net/tcp or /proc/net/tcp6. */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [, local, , state] = fields;
    const localPort = parseInt(local!.split(':')[1] ?? '', 16);
    if (state === LISTEN && localPort === port && fields[9] !== '0') inodes.push(fields[9]!);
  }
  return inodes;
}

const read = (file: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** The pid of the process listening on 127.0.0.1/any:`port`, if any (the lowest, when several share it). */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set([...listeningInodes(read('/proc/net/tcp'), port), ...listeningInodes(read('/proc/net/tcp6'), port)]);
  if (inodes.size === 0) return undefined;
  const targets = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  const pids = fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .sort((a, b) => a - b);
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (targets.has(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))) return pid;
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
