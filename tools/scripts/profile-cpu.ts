/**
 * `npx tsx tools/scripts/profile-cpu.ts [--seconds 8] [--concurrency 64] [--flash]`: where the CPU of an
 * order goes. Starts the system on the dev stack, drives REST orders (uniform over 2,000 products, or one
 * flash product with --flash), and prints the CPU time each process used per order created (from
 * /proc/<pid>/stat: the services, MariaDB, Redis, NATS and this load generator). Stops what it started
 * (the system, and the dev stack's servers unless they were running) at the end, on failure and on Ctrl-C.
 */
import fs from 'node:fs';
import { credentials, Metadata } from '@grpc/grpc-js';
import { runOrderLoad } from '@orderflow/bench';
import { inventoryV1 } from '@orderflow/proto';
import { LEAN_GRPC_OPTIONS } from '@orderflow/service-kit';
import { boxTicks, dropSystemData, guardStack, numberOption, RunningSystem, runCommand, startStack, startSystem } from '@orderflow/stack';
import { DEV_JWT_SECRET } from '../../apps/gateway/src/config';
import { signDevToken } from '../../apps/gateway/src/dev-token';

const SECONDS = numberOption('--seconds', 8);
const CONCURRENCY = numberOption('--concurrency', 64);
const FLASH = process.argv.includes('--flash');
/** `--cpu-prof DIR`: every service also writes a V8 CPU profile there (summarize with tools/scripts/cpu-top.mjs). */
const PROFILE_DIR = process.argv.includes('--cpu-prof') ? process.argv[process.argv.indexOf('--cpu-prof') + 1] : undefined;
const PRODUCTS = 2000;
const TICKS = 100; // USER_HZ on Linux

const readEnviron = (pid: string) => {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return '';
  }
};

/** CPU ticks (user + system) per process group: the services by entry point, the servers by name. */
function sample(): Map<string, number> {
  const groups = new Map<string, number>();
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const entry = /apps\/([a-z-]+)\/src\/main\.ts/.exec(cmd)?.[1];
      // order-command's relay runs as a process of its own (ORDER_COMMAND_ROLES=relay).
      const app = entry && /(^|\0)ORDER_COMMAND_ROLES=relay(\0|$)/.test(readEnviron(pid)) ? `${entry} (relay)` : entry;
      const group =
        app ??
        (Number(pid) === process.pid
          ? 'load generator (autocannon)'
          : /mariadbd/.test(cmd)
            ? `mariadbd ${/--port=(\d+)/.exec(cmd)?.[1] ?? ''}`
            : /redis-server/.test(cmd)
              ? 'redis'
              : /nats-server/.test(cmd)
                ? 'nats'
                : undefined);
      if (group) groups.set(group, (groups.get(group) ?? 0) + ticks);
    } catch {
      // the process went away
    }
  }
  return groups;
}

const stackGuard = guardStack('dev', (line) => console.log(line));
/** The system this run starts, from when it begins to start. */
let starting: Promise<RunningSystem> | undefined;

async function cleanUp(): Promise<void> {
  const system = await starting?.catch(() => undefined); // one that failed to start stopped what it had started
  if (system) {
    await system.stop();
    await dropSystemData(system.env).catch((error: unknown) => console.warn(`could not drop the run's databases and streams: ${String(error)}`));
  }
  await stackGuard.restore();
}

async function main(): Promise<void> {
  const stack = await startStack({ profile: 'dev', log: () => undefined });
  starting = startSystem({
    stack,
    tag: `cpu${process.pid}`,
    stdio: 'ignore',
    logLevel: 'warn',
    nodeFlags: PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
  });
  const system = await starting;
  const client = new inventoryV1.InventoryServiceClient(system.env.INVENTORY_ADDRESS!, credentials.createInsecure(), LEAN_GRPC_OPTIONS);
  const upsert = (id: string, available: number) =>
    new Promise<void>((resolve, reject) =>
      client.upsertProduct({ id, name: 'p', priceMinor: 500, available }, new Metadata(), (e) => (e ? reject(e) : resolve())),
    );
  if (FLASH) await upsert('flash', 3000);
  else for (let i = 0; i < PRODUCTS; i += 200) await Promise.all(Array.from({ length: 200 }, (_, j) => upsert(`p${i + j}`, 1e9)));
  client.close();
  const tokens = Array.from({ length: 2000 }, (_, i) => signDevToken(DEV_JWT_SECRET, `cpu-${i}`, { ttlSeconds: 3600 }));
  const before = sample();
  const boxBefore = boxTicks();
  const started = process.hrtime.bigint();
  const result = await runOrderLoad({
    name: 'probe',
    url: system.gatewayUrl,
    concurrency: CONCURRENCY,
    seconds: SECONDS,
    next: () => ({
      token: tokens[Math.floor(Math.random() * tokens.length)]!,
      body: {
        items: [{ product_id: FLASH ? 'flash' : `p${Math.floor(Math.random() * PRODUCTS)}`, quantity: 1, unit_price: 5 }],
        address: 'A',
        payment_method: 'card',
      },
    }),
  });
  // Let the relay and the projection finish what the load left them.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const after = sample();
  const boxAfter = boxTicks();
  const requests = Object.values(result.statuses).reduce((a, b) => a + b, 0);
  console.log(
    `${FLASH ? 'flash' : 'uniform'} c=${CONCURRENCY}: ${result.created} orders created (${Math.round(result.createdPerSecond)}/s), ` +
      `${requests} requests, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms`,
  );
  console.log(`CPU over ${wall.toFixed(1)} s wall (load + 3 s drain), per request:`);
  let total = 0;
  const rows = [...after].map(([group, ticks]) => [group, (ticks - (before.get(group) ?? 0)) / TICKS] as const).sort((a, b) => b[1] - a[1]);
  for (const [group, seconds] of rows) {
    total += seconds;
    console.log(`  ${group.padEnd(30)} ${seconds.toFixed(2).padStart(6)} s  ${((seconds / requests) * 1e3).toFixed(3)} ms/request`);
  }
  console.log(`  ${'total of these processes'.padEnd(30)} ${total.toFixed(2).padStart(6)} s  ${((total / requests) * 1e3).toFixed(3)} ms/request`);
  const busy = boxAfter.busy - boxBefore.busy;
  const all = boxAfter.total - boxBefore.total;
  console.log(
    `  box (/proc/stat, kernel and steal included): ${((busy / all) * 100).toFixed(0)}% busy, ${((busy / TICKS / requests) * 1e3).toFixed(3)} ms/request`,
  );
}

runCommand(main, cleanUp);
