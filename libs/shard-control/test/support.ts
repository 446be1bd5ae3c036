import { createSqlPool, dropDatabase, ensureDatabase, migrate, type MysqlTarget, SqlPool } from '@orderflow/database';
import { parseShardMap, ShardRouter } from '@orderflow/sharding';
import { testStack } from '@orderflow/stack';
import { fenceManyMigration, shardControlMigration } from '../src';

let counter = 0;

/**
 * A shard set of its own on the test stack: `count` databases (sc_<pid>_<n>_<i>, spread over both MariaDB
 * servers) with the shard-control schema (orderflow_fence_many included), a pool per shard, and a test table `writes (id, bucket)` that
 * fenced transactions write to. `drop()` closes the pools and drops the databases.
 */
export async function shardSet(count: number) {
  const stack = testStack.info();
  const tag = `${process.pid}_${++counter}`;
  const targets: MysqlTarget[] = Array.from({ length: count }, (_, i) => ({ ...stack.mysql[i % 2]!, database: `sc_${tag}_${i}` }));
  const pools: SqlPool[] = [];
  const extra: SqlPool[] = [];
  const set = {
    targets,
    pools,
    /** Another process's pools (a LiveShardMap of its own). */
    morePools(): SqlPool[] {
      const more = targets.map((target) => createSqlPool(target, { max: 4 }));
      extra.push(...more);
      return more;
    },
    router: (spec: string, shards = count) => new ShardRouter(parseShardMap(spec, shards)),
    rows: <T>(shard: number, sql: string, values?: unknown[]) => pools[shard]!.select<T>(sql, values),
    exec: (shard: number, sql: string, values?: unknown[]) => pools[shard]!.run([{ sql, values }]),
    async drop(): Promise<void> {
      await Promise.all([...pools, ...extra].map((pool) => pool.end().catch(() => undefined)));
      for (const target of targets) await dropDatabase(target);
    },
  };
  for (const target of targets) {
    await ensureDatabase(target);
    await migrate(target, [shardControlMigration('0001-shard-control'), fenceManyMigration('0002-fence-many')]);
    const pool = createSqlPool(target, { max: 4 });
    pools.push(pool);
    await pool.run([{ sql: 'CREATE TABLE writes (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, bucket SMALLINT UNSIGNED NOT NULL) ENGINE=InnoDB' }]);
  }
  return set;
}

export type ShardSet = Awaited<ReturnType<typeof shardSet>>;

/** Gives `shard` the bucket as the map's version `epoch` would (OWNED, FENCED with a lease from now, or MOVED). */
export async function setBucket(set: ShardSet, shard: number, bucket: number, epoch: number, state: 'OWNED' | 'FENCED' | 'MOVED', leaseMs = 0) {
  await set.exec(
    shard,
    `INSERT INTO shard_buckets (bucket, epoch, state, fenced_until, updated_at)
     VALUES (?, ?, ?, IF(? = 'FENCED', NOW(3) + INTERVAL ? * 1000 MICROSECOND, NULL), NOW(3))
     ON DUPLICATE KEY UPDATE epoch = VALUES(epoch), state = VALUES(state), fenced_until = VALUES(fenced_until), updated_at = VALUES(updated_at)`,
    [bucket, epoch, state, state, leaseMs],
  );
}

/** What a move's switch does, by hand: the bucket MOVED on `from`, OWNED on `to`, the map at `version` with `spec`. */
export async function switchBucket(set: ShardSet, bucket: number, from: number, to: number, version: number, spec: string) {
  await setBucket(set, from, bucket, version, 'MOVED');
  await setBucket(set, to, bucket, version, 'OWNED');
  await set.exec(0, 'UPDATE shard_map SET version = ?, spec = ?, updated_at = NOW(3) WHERE id = 1', [version, spec]);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
