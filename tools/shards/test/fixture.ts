import { createSqlPool, dropDatabase, ensureDatabase, migrate, type MysqlTarget, type SqlPool, type Statement } from '@orderflow/database';
import { LiveShardMap, shardControlMigration } from '@orderflow/shard-control';
import { encodeOrderId, parseShardMap, ShardRouter } from '@orderflow/sharding';
import { testStack } from '@orderflow/stack';
import mysql from 'mysql2/promise';
import { ShardSet, TABLES, type ShardSetName } from '../src';
import { templateOf } from './app-schemas';

let counter = 0;

/** A set of shards for one test: databases on the test stack's two MariaDB servers, schema cloned from the apps'. */
export interface TestShards {
  set: ShardSetName;
  targets: MysqlTarget[];
  pools: SqlPool[];
  /** ORDER_SHARDS (or READ_SHARDS) for the command. */
  env: Record<string, string>;
  shardSet(): ShardSet;
  /** The live map as a writer holds it (polling fast, as a test needs). */
  liveMap(instance: string, pollMs?: number): LiveShardMap;
  drop(): Promise<void>;
}

async function cloneSchema(set: ShardSetName, target: MysqlTarget): Promise<void> {
  const template = templateOf(set);
  const source = await mysql.createConnection({ ...template, user: target.user, password: target.password });
  const into = await mysql.createConnection({ ...target, multipleStatements: true });
  try {
    const [tables] = await source.query<mysql.RowDataPacket[]>(
      `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'`,
      [template.database],
    );
    for (const { name } of tables) {
      if (name === 'schema_migrations' || name === 'SequelizeMeta') continue;
      const [[create]] = await source.query<mysql.RowDataPacket[]>(`SHOW CREATE TABLE \`${name}\``);
      await into.query(create!['Create Table'] as string);
    }
    const [procedures] = await source.query<mysql.RowDataPacket[]>(`SELECT ROUTINE_NAME AS name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?`, [
      template.database,
    ]);
    for (const { name } of procedures) {
      const [[create]] = await source.query<mysql.RowDataPacket[]>(`SHOW CREATE PROCEDURE \`${name}\``);
      await into.query(create!['Create Procedure'] as string);
    }
  } finally {
    await source.end();
    await into.end();
  }
  // The apps migrate the control tables too once they run the live map; until then, here.
  const [[present]] = await (async () => {
    const c = await mysql.createConnection(target);
    try {
      return await c.query<mysql.RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'shard_buckets'`,
        [target.database],
      );
    } finally {
      await c.end();
    }
  })();
  if (Number(present!.n) === 0) await migrate(target, [shardControlMigration('0000-shard-control')]);
}

/**
 * `count` shards of a set (alternating over the two test servers), migrated, with the live map written
 * as version 1 from `spec` and each shard's buckets seeded (as the first service to start does).
 */
export async function createTestShards(set: ShardSetName, count: number, spec: string): Promise<TestShards> {
  const mysqlServers = testStack.info().mysql;
  const tag = `sh${process.pid}_${++counter}`;
  const targets: MysqlTarget[] = Array.from({ length: count }, (_, i) => {
    const server = mysqlServers[i % mysqlServers.length]!;
    return { host: server.host, port: server.port, user: server.user, password: server.password, database: `orderflow_${set}_${tag}_${i}` };
  });
  for (const target of targets) {
    await ensureDatabase(target);
    await cloneSchema(set, target);
  }
  const pools = targets.map((t) => createSqlPool(t, { max: 8 }));
  const router = () => new ShardRouter(parseShardMap(spec, count));
  const seed = new LiveShardMap(pools, router(), { instance: `fixture-${tag}` });
  await seed.start();
  await seed.stop();
  const list = targets.map((t) => `${t.host}:${t.port}/${t.database}`).join(',');
  const sets: ShardSet[] = [];
  return {
    set,
    targets,
    pools,
    env: set === 'orders' ? { ORDER_SHARDS: list } : { READ_SHARDS: list },
    shardSet: () => {
      const s = new ShardSet(set, targets);
      sets.push(s);
      return s;
    },
    liveMap: (instance, pollMs = 100) => new LiveShardMap(pools, router(), { instance, pollMs }),
    drop: async () => {
      await Promise.all([...sets.map((s) => s.close()), ...pools.map((p) => p.end().catch(() => undefined))]);
      for (const target of targets) await dropDatabase(target);
    },
  };
}

const at = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** A fresh order id in `bucket` (unique within the test process). */
let sequence = 0;
export function newOrderId(bucket: number): string {
  sequence += 1;
  return encodeOrderId({ timestampMs: Date.UTC(2026, 0, 1) + Math.floor(sequence / 4096), bucket, sequence: sequence % 4096 });
}

/** Every row of one order on an order shard (orders, 2 items, history, an idempotency key, an outbox row): as one placement writes. */
export function placeOrderStatements(orderId: string, version = 1, withNulls = false): Statement[] {
  const now = at(Date.now());
  const customer = `c-${orderId}`;
  return [
    {
      sql: `INSERT INTO orders (id, customer_id, status, total_minor, address, payment_method, version, stock_action, stock_settled_at, created_at, updated_at, expires_at)
            VALUES (?, ?, 'RESERVED', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      values: [orderId, customer, 1234, `Straße ${orderId} 🚚`, 'card', version, withNulls ? null : 'COMMIT', withNulls ? null : now, now, now, now],
    },
    {
      sql: 'INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price_minor) VALUES (?, 1, ?, 2, 500), (?, 2, ?, 1, 234)',
      values: [orderId, 'p-1', orderId, 'p-2'],
    },
    {
      sql: `INSERT INTO order_history (order_id, version, status, event_id, occurred_at, actor_kind, actor_id, reason) VALUES (?, ?, 'RESERVED', UUID(), ?, 'CUSTOMER', ?, 'placed')`,
      values: [orderId, version, now, withNulls ? null : customer],
    },
    {
      sql: `INSERT INTO idempotency_keys (customer_id, idempotency_key, fingerprint, order_id, state, owner, response, created_at, updated_at)
            VALUES (?, ?, REPEAT('f', 64), ?, 'DONE', ?, ?, ?, ?)`,
      values: [customer, `key-${orderId}`, orderId, withNulls ? null : 'owner-1', withNulls ? null : Buffer.from([0, 1, 2, 255]), now, now],
    },
    {
      sql: `INSERT INTO outbox (event_id, order_id, subject, payload, created_at, sent_at, publish_attempts, traceparent) VALUES (UUID(), ?, 'orders.v1.placed', ?, ?, ?, 0, ?)`,
      values: [orderId, Buffer.from([1, 0, 200, 3]), now, withNulls ? null : now, withNulls ? null : '00-abc-def-01'],
    },
  ];
}

/** A status change: the order's version goes up, with a history row and an outbox row. */
export function payOrderStatements(orderId: string, version: number): Statement[] {
  const now = at(Date.now());
  return [
    { sql: `UPDATE orders SET status = 'PAID', version = ?, updated_at = ? WHERE id = ?`, values: [version, now, orderId] },
    {
      sql: `INSERT INTO order_history (order_id, version, status, event_id, occurred_at, actor_kind, actor_id, reason) VALUES (?, ?, 'PAID', UUID(), ?, 'CUSTOMER', NULL, 'paid')`,
      values: [orderId, version, now],
    },
    {
      sql: `INSERT INTO outbox (event_id, order_id, subject, payload, created_at, publish_attempts) VALUES (UUID(), ?, 'orders.v1.paid', X'0102', ?, 0)`,
      values: [orderId, now],
    },
    { sql: `UPDATE idempotency_keys SET updated_at = ? WHERE customer_id = ? AND idempotency_key = ?`, values: [now, `c-${orderId}`, `key-${orderId}`] },
  ];
}

/** Removes an order's rows (what a retention purge does to its outbox and keys, here to every table), by key where there is one. */
export function deleteOrderStatements(set: ShardSetName, orderId: string): Statement[] {
  const customer = `c-${orderId}`;
  return TABLES[set].map((t) =>
    t.name === 'idempotency_keys'
      ? { sql: 'DELETE FROM idempotency_keys WHERE customer_id = ? AND idempotency_key = ?', values: [customer, `key-${orderId}`] }
      : t.name === 'customer_orders'
        ? { sql: 'DELETE FROM customer_orders WHERE customer_id = ? AND order_id = ?', values: [customer, orderId] }
        : { sql: `DELETE FROM \`${t.name}\` WHERE \`${t.orderIdColumn}\` = ?`, values: [orderId] },
  );
}

/** A read shard's rows of one order (its view and its customer's listing entry). */
export function projectOrderStatements(orderId: string, version = 1): Statement[] {
  const now = at(Date.now());
  const customer = `c-${orderId}`;
  return [
    {
      sql: `INSERT INTO order_views (order_id, customer_id, status, total_minor, address, payment_method, version, created_at, updated_at, expires_at, items, last_event_id, event_occurred_at, projected_at)
            VALUES (?, ?, 'RESERVED', 1234, 'Somewhere 1', 'card', ?, ?, ?, ?, '[{"product_id":"p-1","quantity":2}]', UUID(), ?, ?)
            ON DUPLICATE KEY UPDATE version = VALUES(version), status = 'PAID', updated_at = VALUES(updated_at)`,
      values: [orderId, customer, version, now, now, now, now, now],
    },
    {
      sql: `INSERT INTO customer_orders (customer_id, order_id, status, total_minor, version, created_at) VALUES (?, ?, 'RESERVED', 1234, ?, ?)
            ON DUPLICATE KEY UPDATE version = VALUES(version), status = 'PAID'`,
      values: [customer, orderId, version, now],
    },
  ];
}

/** Writes `perBucket` orders into each of `buckets` on the shards the map names (before any move: no fence needed). */
export async function seedOrders(shards: TestShards, spec: string, buckets: number[], perBucket: number): Promise<string[]> {
  const map = parseShardMap(spec, shards.targets.length);
  const ids: string[] = [];
  for (const bucket of buckets) {
    const pool = shards.pools[map.shardForBucket(bucket)]!;
    const statements: Statement[] = [];
    for (let i = 0; i < perBucket; i++) {
      const id = newOrderId(bucket);
      ids.push(id);
      statements.push(...(shards.set === 'orders' ? placeOrderStatements(id, 1, i % 3 === 0) : projectOrderStatements(id)));
    }
    for (let i = 0; i < statements.length; i += 200) await pool.run(statements.slice(i, i + 200));
  }
  return ids;
}

/** Everything a move may touch on a shard, as text: each table's rows, the bucket owners, the changes, the triggers. */
export async function shardSnapshot(pool: SqlPool, set: ShardSetName): Promise<string> {
  const parts: string[] = [];
  for (const table of TABLES[set]) {
    const columns = table.columns.filter((c) => !table.notCopied?.includes(c));
    const rows = await pool.select<Record<string, unknown>>(
      `SELECT ${columns.map((c) => `HEX(\`${c}\`) AS \`${c}\``).join(', ')} FROM \`${table.name}\` ORDER BY ${table.primaryKey.map((c) => `\`${c}\``).join(', ')}`,
    );
    parts.push(`${table.name}: ${JSON.stringify(rows)}`);
  }
  parts.push(
    `shard_buckets: ${JSON.stringify(await pool.select('SELECT bucket, CAST(epoch AS CHAR) AS epoch, state, fenced_until, updated_at FROM shard_buckets ORDER BY bucket'))}`,
  );
  parts.push(`shard_changes: ${JSON.stringify(await pool.select('SELECT * FROM shard_changes'))}`);
  parts.push(`triggers: ${JSON.stringify(await pool.select('SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()'))}`);
  return parts.join('\n');
}

/** Rows of the buckets `first..last` in a table of a shard. */
export async function rowsInBuckets(pool: SqlPool, table: string, orderIdColumn: string, first: number, last: number): Promise<number> {
  const [row] = await pool.select<{ n: string }>(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE ((\`${orderIdColumn}\` >> 12) & 1023) BETWEEN ? AND ?`, [
    first,
    last,
  ]);
  return Number(row?.n);
}
