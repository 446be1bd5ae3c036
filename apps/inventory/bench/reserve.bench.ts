/**
 * Reserve throughput over gRPC, beside this machine's raw MySQL limit measured in the same run.
 *   npm run bench:inventory [-- --seconds 8 --concurrency 64 --modes batched,batched-calls,locked,optimistic --profile test]
 * Starts the dev stack if needed (or, with --profile NAME, uses that profile's servers, already running:
 * `--profile test` for the test stack) and, per mode, an inventory process on its own database (src/main.ts
 * for batched, batched-calls and locked; for optimistic, the naive baseline, optimistic-inventory.server.ts), then:
 *   hot:      every call reserves 1 unit of one product (at concurrency 16, 64 and 256);
 *   uniform:  every call reserves 1 unit of a random one of 10,000 products (at --concurrency);
 *   (batched-calls: inventory in batched mode, driven as order-command drives it: the callers' Reserves go
 *   through one batchingCaller over ReserveBatch, concurrent ones sharing a call, with order-command's
 *   defaults INVENTORY_RESERVE_LINGER_MS=0 and INVENTORY_RESERVE_BATCH_MAX=128, or --linger-ms and --batch-max;
 *   every other mode makes one Reserve call per reservation)
 *   raw:      a plain `UPDATE ... SET available = available - 1 WHERE id = ? AND available >= 1` loop
 *             (mysql2, one connection per worker) on one row and on random rows;
 *   floor:    the same Reserve calls against grpc-floor.server.ts (inventory's gRPC surface answering
 *             at once), at the same concurrencies: what grpc-js itself allows on this box; with
 *             batched-calls, also through its batchingCaller (ReserveBatch, each entry answered at once).
 * Prints each line and the ratios; writes reports/bench-inventory.json.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { dropDatabase, ensureDatabase } from '@orderflow/database';
import { inventoryV1 } from '@orderflow/proto';
import { batchingCaller } from '@orderflow/service-kit';
import {
  freePort,
  guardStack,
  numberOption,
  runCommand,
  SERVICE_NODE_FLAGS,
  stackInfo,
  startStack,
  typescriptNodeArgs,
  withBoxCpu,
  workspaceRoot,
} from '@orderflow/stack';
import mysql from 'mysql2/promise';
import { drive as driveLoad, formatRow, LoadResult } from './load';

/**
 * A load line from this process, with the whole box's CPU per call while it ran. (Split over two load
 * processes instead, every line came out slower on this 2-core box: each grpc-js client then batches
 * fewer calls per write and competes with the server for the same cores.)
 */
const drive = (...args: Parameters<typeof driveLoad>) => withBoxCpu(() => driveLoad(...args));

const SECONDS = numberOption('--seconds', 8);
const CONCURRENCY = numberOption('--concurrency', 64);
/** batched-calls: how order-command gathers its Reserves (its INVENTORY_RESERVE_LINGER_MS and INVENTORY_RESERVE_BATCH_MAX defaults). */
const LINGER_MS = numberOption('--linger-ms', 0);
const BATCH_MAX = numberOption('--batch-max', 128);
/** A stack profile whose servers are already running, used as they are (nothing started or stopped). */
const PROFILE = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : undefined;
const PRODUCTS = 10_000;
const root = workspaceRoot();

function call<Res>(fn: (metadata: Metadata, options: { deadline: Date }, cb: (e: Error | null, r: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => fn(new Metadata(), { deadline: new Date(Date.now() + 30_000) }, (e, r) => (e ? reject(e) : resolve(r))));
}

async function rawBaseline(target: { host: string; port: number; user: string; password: string }): Promise<LoadResult[]> {
  const database = 'orderflow_bench_raw';
  await dropDatabase({ ...target, database });
  await ensureDatabase({ ...target, database });
  const pool = mysql.createPool({ ...target, database, connectionLimit: CONCURRENCY });
  await pool.query('CREATE TABLE stock (id INT PRIMARY KEY, available BIGINT NOT NULL) ENGINE=InnoDB');
  const rows = Array.from({ length: PRODUCTS }, (_, i) => [i, 1_000_000_000]);
  for (let i = 0; i < rows.length; i += 1000) await pool.query('INSERT INTO stock VALUES ?', [rows.slice(i, i + 1000)]);
  const update = (id: number) => pool.execute('UPDATE stock SET available = available - 1 WHERE id = ? AND available >= 1', [id]);
  const hot = await drive('raw UPDATE, one row', CONCURRENCY, SECONDS * 1000, () => update(0));
  console.log(formatRow(hot));
  const uniform = await drive('raw UPDATE, random rows', CONCURRENCY, SECONDS * 1000, () => update(Math.floor(Math.random() * PRODUCTS)));
  console.log(formatRow(uniform));
  await pool.end();
  await dropDatabase({ ...target, database });
  return [hot, uniform];
}

const MODES = (process.argv.includes('--modes') ? process.argv[process.argv.indexOf('--modes') + 1]! : 'batched,batched-calls,locked,optimistic').split(',');
const HOT_CONCURRENCY = [16, 64, 256];

interface ModeResult {
  mode: string;
  hot: LoadResult[];
  uniform: LoadResult;
}

/** A client of `server` (listening on `port`) once it answers; fails if the server exits first. */
async function readyClient(server: ChildProcess, port: number): Promise<inventoryV1.InventoryServiceClient> {
  const client = new inventoryV1.InventoryServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  for (let ready = false; !ready;) {
    if (server.exitCode !== null || server.signalCode !== null) {
      client.close();
      throw new Error(`the server on port ${port} exited before it answered`);
    }
    ready = await call((m, o, cb) => client.getProducts({ productIds: ['x'] }, m, o, cb)).then(
      () => true,
      () => false,
    );
    if (!ready) await new Promise((r) => setTimeout(r, 300));
  }
  return client;
}

let reserved = 0;
/** One Reserve of 1 unit of a product, under a new order id, as the benchmark sends it to every server. */
const reserveCall = (client: inventoryV1.InventoryServiceClient) => (productId: string) =>
  call((m, o, cb) =>
    client.reserve(
      {
        orderId: `bench-${process.pid}-${reserved++}`,
        items: [{ productId, quantity: 1 }],
        expiresAt: new Date(Date.now() + 3600_000),
        expectedPrices: [],
        placementId: '',
      },
      m,
      o,
      cb,
    ),
  );

/**
 * One Reserve of 1 unit of a product as order-command makes it: through one batchingCaller over
 * ReserveBatch, so the Reserves of concurrent callers made in one turn of the event loop share a call.
 */
const batchedReserveCall = (client: inventoryV1.InventoryServiceClient) => {
  const reserve = batchingCaller(client, { deadlineMs: 30_000, isCutOff: () => false, lingerMs: LINGER_MS, maxEntries: BATCH_MAX })('reserveBatch', {
    repeatIfCutOff: false,
  });
  return (productId: string) =>
    reserve({
      orderId: `bench-${process.pid}-${reserved++}`,
      items: [{ productId, quantity: 1 }],
      expiresAt: new Date(Date.now() + 3600_000),
      expectedPrices: [],
      placementId: '',
    });
};

/**
 * The gRPC floor (grpc-floor.server.ts) at each hot concurrency: the same calls, answered with no work;
 * with batched-calls among the modes, also its calls (ReserveBatch, each entry answered at once).
 */
async function measureFloor(): Promise<{ floor: LoadResult[]; floorBatched: LoadResult[] }> {
  const port = await freePort();
  const server = spawn(process.execPath, typescriptNodeArgs(path.join(root, 'apps', 'inventory', 'bench', 'grpc-floor.server.ts'), SERVICE_NODE_FLAGS), {
    env: { ...process.env, GRPC_FLOOR_PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const client = await readyClient(server, port);
  try {
    const reserve = reserveCall(client);
    const floor: LoadResult[] = [];
    for (const concurrency of HOT_CONCURRENCY) {
      floor.push(await drive(`gRPC floor: Reserve answered at once, c=${concurrency}`, concurrency, SECONDS * 1000, () => reserve('bench-hot')));
      console.log(formatRow(floor.at(-1)!));
    }
    const floorBatched: LoadResult[] = [];
    if (MODES.includes('batched-calls')) {
      const batched = batchedReserveCall(client);
      for (const concurrency of HOT_CONCURRENCY) {
        floorBatched.push(await drive(`gRPC floor, batched calls, c=${concurrency}`, concurrency, SECONDS * 1000, () => batched('bench-hot')));
        console.log(formatRow(floorBatched.at(-1)!));
      }
    }
    return { floor, floorBatched };
  } finally {
    client.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
}

/** One inventory process in the given mode, on its own database; the load runs from this process. */
async function measureMode(mode: string, target: { host: string; port: number; user: string; password: string }, redisPort: number): Promise<ModeResult> {
  const database = `orderflow_bench_inventory_${mode.replace(/-/g, '_')}`;
  await dropDatabase({ ...target, database });
  const port = await freePort();
  // The modes the service ships run src/main.ts; the naive baseline runs from bench/ (optimistic-reserve.ts).
  const entry = path.join(root, 'apps', 'inventory', ...(mode === 'optimistic' ? ['bench', 'optimistic-inventory.server.ts'] : ['src', 'main.ts']));
  const service = spawn(process.execPath, typescriptNodeArgs(entry, SERVICE_NODE_FLAGS), {
    env: {
      ...process.env,
      INVENTORY_GRPC_PORT: String(port),
      INVENTORY_MYSQL_PORT: String(target.port),
      INVENTORY_MYSQL_DATABASE: database,
      INVENTORY_REDIS: `127.0.0.1:${redisPort}`,
      ...(mode === 'optimistic' ? {} : { INVENTORY_RESERVE_MODE: mode === 'batched-calls' ? 'batched' : mode }),
      INVENTORY_METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const client = await readyClient(service, port);
  try {
    await call((m, o, cb) => client.upsertProduct({ id: 'bench-hot', name: 'hot', priceMinor: 100, available: 1_000_000_000 }, m, o, cb));
    for (let i = 0; i < PRODUCTS; i += 200) {
      await Promise.all(
        Array.from({ length: 200 }, (_, j) =>
          call((m, o, cb) => client.upsertProduct({ id: `bench-${i + j}`, name: 'uniform', priceMinor: 100, available: 1_000_000 }, m, o, cb)),
        ),
      );
    }
    const reserve = mode === 'batched-calls' ? batchedReserveCall(client) : reserveCall(client);
    const hot: LoadResult[] = [];
    for (const concurrency of HOT_CONCURRENCY) {
      hot.push(await drive(`${mode}: Reserve, one hot product, c=${concurrency}`, concurrency, SECONDS * 1000, () => reserve('bench-hot')));
      console.log(formatRow(hot.at(-1)!));
    }
    const uniform = await drive(`${mode}: Reserve, uniform ${PRODUCTS} products, c=${CONCURRENCY}`, CONCURRENCY, SECONDS * 1000, () =>
      reserve(`bench-${Math.floor(Math.random() * PRODUCTS)}`),
    );
    console.log(formatRow(uniform));
    return { mode, hot, uniform };
  } finally {
    client.close();
    service.kill('SIGTERM');
    await new Promise((resolve) => service.once('exit', resolve));
    await dropDatabase({ ...target, database });
  }
}

async function main(): Promise<void> {
  const stack = PROFILE ? stackInfo(PROFILE) : await startStack({ profile: 'dev', log: () => undefined });
  const target = stack.mysql[0]!;
  console.log(`\nReserve over gRPC, ${SECONDS} s per line; raw MySQL limits measured in the same run\n`);
  const modes: ModeResult[] = [];
  for (const mode of MODES) modes.push(await measureMode(mode, target, stack.redis[0]!.port));
  const { floor, floorBatched } = await measureFloor();
  const raw = await rawBaseline(target);
  const [rawHot, rawUniform] = raw;
  const at64 = (m: ModeResult) => m.hot[HOT_CONCURRENCY.indexOf(64)]!;
  const byMode = Object.fromEntries(modes.map((m) => [m.mode, m]));
  console.log(
    '\nratios at concurrency 64 (targets: batched-calls, as order-command drives inventory, >= 1.0x raw one-row UPDATE; batched >= 5x locked, >= 10x optimistic)',
  );
  for (const m of modes) {
    const hot = `hot ${at64(m).perSecond.toFixed(0).padStart(6)}/s = ${(at64(m).perSecond / rawHot!.perSecond).toFixed(2)}x raw one-row UPDATE`;
    console.log(`  ${m.mode.padEnd(13)} ${hot}; uniform ${(m.uniform.perSecond / rawUniform!.perSecond).toFixed(2)}x raw random-row UPDATE`);
  }
  const floor64 = floor[HOT_CONCURRENCY.indexOf(64)]!;
  console.log(
    `  gRPC floor ${floor64.perSecond.toFixed(0).padStart(6)}/s = ${(floor64.perSecond / rawHot!.perSecond).toFixed(2)}x raw one-row UPDATE: ` +
      'no Reserve made one call each over grpc-js on this box can pass it',
  );
  if (byMode.batched) console.log(`  batched / gRPC floor hot: ${(at64(byMode.batched).perSecond / floor64.perSecond).toFixed(2)}x`);
  if (byMode['batched-calls'])
    console.log(
      `  batched-calls / gRPC floor hot: ${(at64(byMode['batched-calls']).perSecond / floor64.perSecond).toFixed(2)}x (that floor is one call per Reserve)`,
    );
  if (byMode['batched-calls'] && floorBatched.length > 0) {
    const floorBatched64 = floorBatched[HOT_CONCURRENCY.indexOf(64)]!;
    console.log(
      `  gRPC floor, batched calls ${floorBatched64.perSecond.toFixed(0).padStart(6)}/s = ${(floorBatched64.perSecond / rawHot!.perSecond).toFixed(2)}x raw one-row UPDATE; ` +
        `batched-calls / it: ${(at64(byMode['batched-calls']).perSecond / floorBatched64.perSecond).toFixed(2)}x`,
    );
  }
  if (byMode.batched && byMode.locked)
    console.log(`  batched / locked hot:     ${(at64(byMode.batched).perSecond / at64(byMode.locked).perSecond).toFixed(1)}x`);
  if (byMode.batched && byMode.optimistic)
    console.log(`  batched / optimistic hot: ${(at64(byMode.batched).perSecond / at64(byMode.optimistic).perSecond).toFixed(1)}x`);
  fs.mkdirSync(path.join(root, 'reports'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'reports', 'bench-inventory.json'),
    JSON.stringify(
      {
        seconds: SECONDS,
        concurrency: CONCURRENCY,
        hotConcurrency: HOT_CONCURRENCY,
        batchedCalls: { lingerMs: LINGER_MS, maxEntries: BATCH_MAX },
        modes,
        floor,
        floorBatched,
        raw,
      },
      null,
      2,
    ),
  );
}

// The dev stack's servers this run starts (none under `npm start`, or when npm run bench started them) are stopped at its end, on failure and on Ctrl-C.
const stackGuard = guardStack('dev', (line) => console.log(line));
runCommand(main, () => stackGuard.restore());
