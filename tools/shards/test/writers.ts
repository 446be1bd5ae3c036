import type { Statement } from '@orderflow/database';
import { writeFenced, type LiveShardMap } from '@orderflow/shard-control';
import { bucketOfOrderId } from '@orderflow/sharding';
import { TABLES } from '../src';
import { deleteOrderStatements, newOrderId, payOrderStatements, placeOrderStatements, projectOrderStatements, type TestShards } from './fixture';

/** What the writers were told was written: each order's last acknowledged version, or its deletion. */
export interface AckedOrder {
  bucket: number;
  version: number;
  deleted: boolean;
}

/**
 * Writers as the services write: each transaction routed by the live map and fenced on its shard
 * (writeFenced), re-routed when a switch refuses it. Places, changes and deletes orders in the given
 * buckets, and records every acknowledged write.
 */
export class OrderWriters {
  readonly acked = new Map<string, AckedOrder>();
  /** When each acknowledged write came back, and whether its bucket was one of `moving`. */
  readonly acks: { at: number; moving: boolean; ms: number }[] = [];
  readonly errors: unknown[] = [];
  fenced = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly busy = new Set<string>();

  constructor(
    private readonly shards: TestShards,
    private readonly map: LiveShardMap,
    private readonly buckets: { moving: number[]; still: number[] },
  ) {}

  /** Orders written before the writers started: they change and are checked like the others. */
  adopt(orderIds: string[]): void {
    for (const id of orderIds) this.acked.set(id, { bucket: bucketOfOrderId(id), version: 1, deleted: false });
  }

  start(concurrency: number): void {
    this.running = true;
    this.loops = Array.from({ length: concurrency }, (_, i) => this.loop(i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(worker: number): Promise<void> {
    let n = 0;
    while (this.running) {
      n += 1;
      const moving = (n + worker) % 2 === 0;
      const pool = moving ? this.buckets.moving : this.buckets.still;
      const bucket = pool[Math.floor(Math.random() * pool.length)] as number;
      try {
        await this.writeOne(bucket, moving);
      } catch (error) {
        this.errors.push(error);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  private async writeOne(bucket: number, moving: boolean): Promise<void> {
    const candidates = [...this.acked].filter(([id, o]) => o.bucket === bucket && !o.deleted && !this.busy.has(id));
    const roll = Math.random();
    const existing = candidates.length > 0 && roll < 0.5 ? candidates[Math.floor(Math.random() * candidates.length)] : undefined;
    const orderId = existing?.[0] ?? newOrderId(bucket);
    const before = existing?.[1];
    let statements: Statement[];
    let after: AckedOrder;
    if (!before) {
      statements = this.shards.set === 'orders' ? placeOrderStatements(orderId) : projectOrderStatements(orderId);
      after = { bucket, version: 1, deleted: false };
    } else if (roll < 0.4) {
      const version = before.version + 1;
      statements = this.shards.set === 'orders' ? payOrderStatements(orderId, version) : projectOrderStatements(orderId, version);
      after = { bucket, version, deleted: false };
    } else {
      statements = deleteOrderStatements(this.shards.set, orderId);
      after = { bucket, version: before.version, deleted: true };
    }
    this.busy.add(orderId);
    const started = Date.now();
    try {
      await writeFenced(
        this.map,
        bucket,
        (route) =>
          (this.shards.pools[route.shard] as NonNullable<TestShards['pools'][number]>).transaction((tx) => tx.commitWith([route.fence, ...statements])),
        { maxWaitMs: 15_000, onFenced: () => (this.fenced += 1) },
      );
      this.acked.set(orderId, after);
      this.acks.push({ at: Date.now(), moving, ms: Date.now() - started });
    } finally {
      this.busy.delete(orderId);
    }
  }
}

/**
 * Checks every acknowledged order against the shards: a live one exists exactly once, on the shard the
 * final map gives its bucket, at its acknowledged version (with its rows in every table); a deleted one
 * nowhere. Returns the problems found (empty: all good).
 */
export async function checkAcknowledged(shards: TestShards, writers: OrderWriters, ownerOf: (bucket: number) => number): Promise<string[]> {
  const problems: string[] = [];
  const main = TABLES[shards.set][0]!;
  const versions = new Map<string, { shard: number; version: number }[]>();
  for (let shard = 0; shard < shards.pools.length; shard++) {
    const rows = await shards.pools[shard]!.select<{ id: string; version: string }>(
      `SELECT CAST(\`${main.orderIdColumn}\` AS CHAR) AS id, CAST(version AS CHAR) AS version FROM \`${main.name}\``,
    );
    for (const row of rows) versions.set(row.id, [...(versions.get(row.id) ?? []), { shard, version: Number(row.version) }]);
  }
  const perOrder = new Map<string, number>();
  for (let shard = 0; shard < shards.pools.length; shard++) {
    for (const table of TABLES[shards.set].slice(1)) {
      const rows = await shards.pools[shard]!.select<{ id: string; n: string }>(
        `SELECT CAST(\`${table.orderIdColumn}\` AS CHAR) AS id, COUNT(*) AS n FROM \`${table.name}\` GROUP BY \`${table.orderIdColumn}\``,
      );
      for (const row of rows) perOrder.set(`${row.id}/${table.name}/${shard}`, Number(row.n));
    }
  }
  for (const [id, order] of writers.acked) {
    const found = versions.get(id) ?? [];
    if (order.deleted) {
      if (found.length > 0) problems.push(`deleted order ${id} still on shard(s) ${found.map((f) => f.shard).join(',')}`);
      for (let shard = 0; shard < shards.pools.length; shard++) {
        for (const table of TABLES[shards.set].slice(1)) {
          if (perOrder.has(`${id}/${table.name}/${shard}`)) problems.push(`deleted order ${id} still has ${table.name} rows on shard ${shard}`);
        }
      }
      continue;
    }
    const owner = ownerOf(order.bucket);
    if (found.length !== 1) problems.push(`order ${id} (bucket ${order.bucket}) found ${found.length} times (shards ${found.map((f) => f.shard).join(',')})`);
    else if (found[0]!.shard !== owner) problems.push(`order ${id} on shard ${found[0]!.shard}, its bucket ${order.bucket} is owned by ${owner}`);
    else if (found[0]!.version !== order.version) problems.push(`order ${id}: version ${found[0]!.version}, acknowledged ${order.version}`);
    if (shards.set === 'orders') {
      const expected: Record<string, number> = { order_items: 2, order_history: order.version, idempotency_keys: 1, outbox: order.version };
      for (const [table, n] of Object.entries(expected)) {
        const got = perOrder.get(`${id}/${table}/${owner}`) ?? 0;
        if (got !== n) problems.push(`order ${id}: ${got} ${table} rows on shard ${owner}, expected ${n}`);
      }
    }
  }
  return problems;
}
