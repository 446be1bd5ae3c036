import { createSqlPool, ensureDatabase, migrate, SqlPool } from '@orderflow/database';
import { orderV1 } from '@orderflow/proto';
import { LiveShardMap } from '@orderflow/shard-control';
import { bucketForCustomer, parseShardMap, shardMapFromConfig, ShardRouter } from '@orderflow/sharding';
import { ReadShardMovingError } from '../src/domain/errors';
import { createProjectOrderEvents } from '../src/domain/project-order-events.use-case';
import { ProjectionStats } from '../src/domain/projection';
import { READ_SHARD_MIGRATIONS } from '../src/infrastructure/mysql/migrations/0001-create-read-shard';
import { MysqlOrderViewStore } from '../src/infrastructure/mysql/order-view.store';
import { decodeOrderEvent } from '../src/infrastructure/nats/order-event.codec';
import { cleanUp, orderHistory, queryConfig } from './support';
import type { OrderQueryConfig } from '../src/config';

const MAX_WAIT_MS = 400;

/**
 * The view store's fencing, below the consumer: the projection use case over the MySQL store and a live map
 * that never polls (stale as soon as a test switches a bucket by hand), on four real read shards.
 */
describe('fenced projection batches on the read shards (ADR 0009; real MariaDB x2)', () => {
  let config: OrderQueryConfig;
  let pools: SqlPool[];
  let map: LiveShardMap;
  let store: MysqlOrderViewStore;
  let fenced = 0;
  const failures: unknown[] = [];

  beforeAll(async () => {
    config = queryConfig();
    for (const target of config.shards) {
      await ensureDatabase(target);
      await migrate(target, READ_SHARD_MIGRATIONS);
    }
    pools = config.shards.map((target) => createSqlPool(target, { max: 4 }));
    map = new LiveShardMap(pools, new ShardRouter(shardMapFromConfig(undefined, 4)), { instance: `fenced-projection-${process.pid}`, pollMs: 600_000 });
    await map.start();
    store = new MysqlOrderViewStore(pools, map, { maxWaitMs: MAX_WAIT_MS, onFenced: () => fenced++ });
    project = createProjectOrderEvents({ store, stats: new ProjectionStats(), clock: { now: () => new Date() }, onFallback: (error) => failures.push(error) });
  });
  afterAll(async () => {
    await map?.stop();
    await Promise.all((pools ?? []).map((pool) => pool.end()));
    if (config) await cleanUp(config);
  });

  let project: ReturnType<typeof createProjectOrderEvents>;

  const unchecked = (event: orderV1.OrderEvent) => decodeOrderEvent(orderV1.OrderEvent.encode(event).finish());
  const versionOn = async (shard: number, orderId: string) =>
    (await pools[shard]!.select<{ version: string }>('SELECT version FROM order_views WHERE order_id = CAST(? AS UNSIGNED)', [orderId]))[0]?.version;
  const exec = (shard: number, sql: string, values: unknown[] = []) => pools[shard]!.run([{ sql, values }]);

  /** Customers whose buckets all differ and all live on `shard`. */
  function customersOn(shard: number, count: number, prefix: string): string[] {
    const found: string[] = [];
    const buckets = new Set<number>();
    for (let i = 0; found.length < count; i++) {
      const customer = `${prefix}-${i}`;
      const bucket = bucketForCustomer(customer);
      if (map.current.router.shardForBucket(bucket) === shard && !buckets.has(bucket)) {
        buckets.add(bucket);
        found.push(customer);
      }
    }
    return found;
  }

  /** A switch by hand (no rows to copy: the moving bucket's order is new): MOVED on `from`, OWNED on `to`, the map's next version. */
  async function switchBucket(bucket: number, from: number, to: number): Promise<void> {
    const [row] = await pools[0]!.select<{ version: string; spec: string }>('SELECT CAST(version AS CHAR) AS version, spec FROM shard_map WHERE id = 1');
    const next = Number(row!.version) + 1;
    const spec = parseShardMap(row!.spec, 4)
      .ranges()
      .flatMap((r) =>
        bucket >= r.from && bucket <= r.to
          ? [
              [r.from, bucket - 1, r.shard],
              [bucket, bucket, to],
              [bucket + 1, r.to, r.shard],
            ]
          : [[r.from, r.to, r.shard]],
      )
      .filter(([a, b]) => a! <= b!)
      .map(([a, b, s]) => `${a}-${b}:${s}`)
      .join(',');
    await exec(from, `UPDATE shard_buckets SET state = 'MOVED', epoch = ? WHERE bucket = ?`, [next, bucket]);
    await exec(to, `INSERT INTO shard_buckets (bucket, epoch, state, updated_at) VALUES (?, ?, 'OWNED', NOW(3))`, [bucket, next]);
    await exec(0, 'UPDATE shard_map SET version = ?, spec = ? WHERE id = 1', [next, spec]);
  }

  beforeEach(() => {
    fenced = 0;
    failures.length = 0;
  });

  it('when a batch spans buckets of one shard and one of them was switched away behind a stale map, then its transaction writes nothing there, and every event lands where the new map says', async () => {
    const [movingCustomer, ...others] = customersOn(1, 3, 'stale');
    const bucket = bucketForCustomer(movingCustomer!);
    await switchBucket(bucket, 1, 3);
    const events = [movingCustomer!, ...others].map((customer) => orderHistory(customer, ['placed'])[0]!);

    // Grouped by the stale map: one share on shard 1, one transaction fenced for its three buckets. The moved
    // bucket's fence refuses it whole; the map read again splits it, so its events go one at a time.
    const outcomes = await project(events.map(unchecked));
    expect(outcomes).toEqual([{ decision: 'insert' }, { decision: 'insert' }, { decision: 'insert' }]);
    expect(fenced).toBe(1);
    expect(failures).toEqual([expect.objectContaining({ message: 'a projection must stay on one read shard' })]);
    expect(await versionOn(3, events[0]!.orderId)).toBe('1');
    expect(await versionOn(1, events[0]!.orderId)).toBeUndefined();
    for (const event of events.slice(1)) expect(await versionOn(1, event.orderId)).toBe('1');
  });

  it("when a batch holds one order's versions and its bucket was switched away behind a stale map, then the batch is re-routed whole and applied in one transaction", async () => {
    const [customer] = customersOn(2, 1, 'whole');
    await switchBucket(bucketForCustomer(customer!), 2, 0);
    const events = orderHistory(customer!, ['placed', 'paid', 'shipped']);
    const outcomes = await project(events.map(unchecked));
    expect(outcomes).toEqual([{ decision: 'insert' }, { decision: 'apply' }, { decision: 'apply' }]);
    expect(failures).toEqual([]);
    expect(fenced).toBe(1);
    expect(await versionOn(0, events[0]!.orderId)).toBe('3');
  });

  it('when a batch spans buckets of one shard and one of them is fenced for a switch, then the others apply at once, and its events wait once and fail with ReadShardMovingError', async () => {
    const [movingCustomer, ...others] = customersOn(0, 3, 'fenced');
    const bucket = bucketForCustomer(movingCustomer!);
    await exec(0, `UPDATE shard_buckets SET state = 'FENCED', fenced_until = NOW(3) + INTERVAL 30 SECOND WHERE bucket = ?`, [bucket]);
    const moving = orderHistory(movingCustomer!, ['placed', 'paid']);
    const events = [moving[0]!, ...others.map((customer) => orderHistory(customer, ['placed'])[0]!), moving[1]!];

    const started = Date.now();
    const outcomes = await project(events.map(unchecked));
    const elapsed = Date.now() - started;
    expect(outcomes[1]).toEqual({ decision: 'insert' });
    expect(outcomes[2]).toEqual({ decision: 'insert' });
    expect(outcomes[0]!.error).toBeInstanceOf(ReadShardMovingError);
    expect(outcomes[3]!.error).toBe(outcomes[0]!.error);
    // The shared transaction did not wait; the moving bucket's first event waited once, its second not again.
    expect(elapsed).toBeGreaterThanOrEqual(MAX_WAIT_MS);
    expect(elapsed).toBeLessThan(MAX_WAIT_MS * 2.5);
    expect(await versionOn(0, moving[0]!.orderId)).toBeUndefined();
    await exec(0, `UPDATE shard_buckets SET state = 'OWNED', fenced_until = NULL WHERE bucket = ?`, [bucket]);
  });
});
