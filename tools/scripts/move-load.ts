/**
 * `npx tsx tools/scripts/move-load.ts --buckets A-B [--clients 16] [--seconds 60] [--every 5] [--moving-share 0.5] [--out FILE]`:
 * REST load on the running system (`npm start`) while a move runs in another terminal (`npm run shards --
 * move --buckets A-B --to S`). Half the clients (by default) are customers of the moving buckets; every
 * `--every` seconds a line per bucket class (moving / not moving) shows orders/s, p50, p99, 5xx and
 * transport errors; at the end (after `--seconds`, or Ctrl-C) the unanswered requests are retried with
 * their keys, the whole run is summed, and every order a 201 named is looked for on the order shards:
 * on the shard the stored map (shard_map on shard 0, else the configured one) gives its bucket, and
 * anywhere else (a move's source rows until its cleanup); and each order's view on the read shard of its
 * bucket at the order's version (waiting up to 30 s for the projection). Exit code 1 on a 5xx, a missing
 * order or a view still behind.
 * `--out FILE` writes the created orders (id, customer, bucket, key) as JSON for later checks.
 */
import fs from 'node:fs';
import { formatSummary, MoveLoad, placement, WindowSummary } from '@orderflow/bench';
import { classify } from '@orderflow/chaos';
import { bucketOfOrderId, parseShardMap, shardMapFromConfig } from '@orderflow/sharding';
import { DEV_PORTS, devSystemEnv } from '@orderflow/stack';
import mysql from 'mysql2/promise';
import { DEV_JWT_SECRET } from '../../apps/gateway/src/config';
import { signDevToken } from '../../apps/gateway/src/dev-token';

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const number = (name: string, fallback: number) => {
  const value = Number(option(name) ?? fallback);
  if (!(value > 0)) throw new Error(`${name} takes a positive number (got "${option(name)}")`);
  return value;
};

function bucketsArgument(): { from: number; to: number } {
  const match = /^(\d+)(?:-(\d+))?$/.exec(option('--buckets') ?? '');
  if (!match) throw new Error('--buckets A-B names the moving buckets (e.g. --buckets 896-1023)');
  const from = Number(match[1]);
  const to = Number(match[2] ?? match[1]);
  if (from > to || to > 1023) throw new Error(`--buckets ${from}-${to}: buckets go from 0 to 1023, low to high`);
  return { from, to };
}

const pools = (list: string) =>
  list.split(',').map((entry) => {
    const [, host, port, database] = /^([^:]+):(\d+)\/(.+)$/.exec(entry)!;
    return mysql.createPool({ host, port: Number(port), user: 'orderflow', password: 'orderflow', database, connectionLimit: 2 });
  });

/** The map a set is routed by: the stored one when the set has one (ADR 0009), else the configured one. */
async function currentMap(shard0: mysql.Pool, shardCount: number, configured: string | undefined) {
  const [rows] = await shard0.query('SELECT spec FROM shard_map WHERE id = 1').catch(() => [[]] as unknown as [{ spec: string }[]]);
  const stored = (rows as { spec: string }[])[0]?.spec;
  return stored ? parseShardMap(stored, shardCount) : shardMapFromConfig(configured || undefined, shardCount);
}

/** Per shard: id -> version of the rows of `ids` in `table`. */
function rowsOnShards(shards: mysql.Pool[], table: string, idColumn: string, ids: string[]): Promise<Map<string, number>[]> {
  return Promise.all(
    shards.map(async (pool) => {
      const rows = new Map<string, number>();
      for (let i = 0; i < ids.length; i += 1000) {
        const [found] = await pool.query(`SELECT CAST(${idColumn} AS CHAR) AS id, version FROM ${table} WHERE ${idColumn} IN (?)`, [ids.slice(i, i + 1000)]);
        for (const row of found as { id: string; version: number }[]) rows.set(row.id, Number(row.version));
      }
      return rows;
    }),
  );
}

async function main(): Promise<number> {
  const moving = bucketsArgument();
  const seconds = number('--seconds', 60);
  const everyMs = number('--every', 5) * 1000;
  const url = option('--url') ?? `http://127.0.0.1:${DEV_PORTS.gateway}`;
  if (
    !(await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    ))
  )
    throw new Error(`no running system: ${url}/readyz does not answer 200 (start one with npm start)`);

  const load = await MoveLoad.start({
    url,
    token: (customer, options) => signDevToken(process.env.JWT_SECRET ?? DEV_JWT_SECRET, customer, options),
    clients: number('--clients', 16),
    moving,
    movingShare: number('--moving-share', 0.5),
  });
  console.log(`move load: ${load.customers.length} clients, buckets ${moving.from}-${moving.to} moving; Ctrl-C ends it`);
  console.log(formatSummary([])[0]);
  let printed = load.startedAt;
  /** The lines of the window since the last print (samples are counted by when they were sent). */
  const tick = (now = Date.now()) => {
    const name = `+${Math.round((printed - load.startedAt) / 1000)}s`;
    console.log(
      formatSummary(load.summary([{ name, from: printed, to: now }]))
        .slice(1)
        .join('\n'),
    );
    printed = now;
  };
  const ticker = setInterval(tick, everyMs);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, seconds * 1000);
    process.once('SIGINT', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  clearInterval(ticker);
  const end = Date.now();
  if (end - printed > 500) tick(end);
  await load.stop();
  console.log('stopped; retrying the requests without a definite answer (same key and body)...');
  await load.retryUnknown(Date.now() + 60_000);

  const [run] = load.summary([{ name: 'whole run', from: load.startedAt, to: end }]) as [WindowSummary];
  console.log(formatSummary([run]).join('\n'));
  const created = load.created();
  if (option('--out')) fs.writeFileSync(option('--out')!, JSON.stringify(created, null, 2));

  const env = devSystemEnv();
  const orderShards = pools(env.ORDER_SHARDS!);
  const readShards = pools(env.READ_SHARDS!);
  try {
    const ids = created.map((o) => o.orderId);
    const orderMap = await currentMap(orderShards[0]!, orderShards.length, env.ORDER_SHARD_MAP);
    const orderRows = await rowsOnShards(orderShards, 'orders', 'id', ids);
    const where = placement(
      created,
      (bucket) => orderMap.shardForBucket(bucket),
      orderRows.map((rows) => new Set(rows.keys())),
    );
    const unsettled = load.operations.filter((op) => op.attempts.every((a) => classify(a) === 'unknown')).length;
    const missing = where.missing.length ? ` (${where.missing.slice(0, 5).join(', ')}...)` : '';
    console.log(
      `orders created: ${where.orders}; on their shard: ${where.onOwner}; missing: ${where.missing.length}${missing}; ` +
        `also on another shard: ${where.elsewhere.length} (a move's source rows until its cleanup); 5xx: ${run.all.server5xx}; still unanswered: ${unsettled}`,
    );

    // The read side: each order's view on the read shard of its bucket, at the order's version (projection lags: up to 30 s).
    const versionOf = (id: string) => orderRows[orderMap.shardForBucket(bucketOfOrderId(id))]?.get(id);
    const since = Date.now();
    let behind = ids;
    for (;;) {
      const readMap = await currentMap(readShards[0]!, readShards.length, env.READ_SHARD_MAP);
      const views = await rowsOnShards(readShards, 'order_views', 'order_id', behind);
      behind = behind.filter((id) => views[readMap.shardForBucket(bucketOfOrderId(id))]?.get(id) !== versionOf(id));
      if (behind.length === 0 || Date.now() - since > 30_000) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    console.log(
      `read side: ${ids.length - behind.length} of ${ids.length} views on their read shard at the order's version` +
        (behind.length
          ? `; ${behind.length} behind after 30 s (${behind.slice(0, 5).join(', ')}...)`
          : ` (within ${((Date.now() - since) / 1000).toFixed(1)} s)`),
    );
    return where.missing.length === 0 && behind.length === 0 && run.all.server5xx === 0 ? 0 : 1;
  } finally {
    await Promise.all([...orderShards, ...readShards].map((pool) => pool.end()));
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
