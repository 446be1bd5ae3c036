import { dropDatabase, type SqlPool, type SqlTransaction, type Statement } from '@orderflow/database';
import { isFenceRejection, LiveShardMap } from '@orderflow/shard-control';
import { bucketForCustomer, shardMapFromConfig, ShardRouter } from '@orderflow/sharding';
import { MysqlOrderRepository } from '../src/infrastructure/mysql/order.repository';
import { OrderShards } from '../src/infrastructure/mysql/order-shards';
import { ShardedOrderIds } from '../src/infrastructure/order-ids';
import { orderCommandConfig, placedEvent } from './support';

/** One transaction as the repository ran it: the shard, the statements of each round trip, whether it committed or was refused by a fence. */
interface Trip {
  shard: number;
  roundTrips: Statement[][];
  outcome: 'committed' | 'fenced' | 'failed' | 'open';
}

/** Shard `shard`'s pool, with every transaction recorded in `trips`. */
function recorded(pool: SqlPool, shard: number, trips: Trip[]): SqlPool {
  return new Proxy(pool, {
    get(target, prop) {
      if (prop === 'transaction') {
        return <T>(work: (tx: SqlTransaction) => Promise<T>) =>
          target.transaction((tx) => {
            const trip: Trip = { shard, roundTrips: [], outcome: 'open' };
            trips.push(trip);
            const send = (commit: boolean) => async (statements: Statement[]) => {
              trip.roundTrips.push(statements);
              try {
                const results = await (commit ? tx.commitWith(statements) : tx.run(statements));
                if (commit) trip.outcome = 'committed';
                return results;
              } catch (error) {
                trip.outcome = isFenceRejection(error) ? 'fenced' : 'failed';
                throw error;
              }
            };
            return work(Object.assign(Object.create(tx) as SqlTransaction, { run: send(false), commitWith: send(true) }));
          });
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const fenceCalls = (trip: Trip) => trip.roundTrips.flat().filter((s) => s.sql.startsWith('CALL orderflow_fence'));

/**
 * The group commit of placed orders on real order shards (ADR 0009): the orders of one shared transaction are
 * fenced by ONE statement over all their buckets, the transaction's first, so a refusal stops it before any
 * write; each order is then written alone behind its own bucket's fence.
 */
describe('group-committed placements behind one fence (real MariaDB x2)', () => {
  const config = orderCommandConfig('127.0.0.1:1');
  const seed = new ShardRouter(shardMapFromConfig(undefined, config.shards.length));
  const shards = new OrderShards(config.shards, seed, { poolMax: 4, migrateOnStart: true });
  const trips: Trip[] = [];
  let map: LiveShardMap;
  let repository: MysqlOrderRepository;
  let pools: SqlPool[];
  const ids = new ShardedOrderIds();

  beforeAll(async () => {
    await shards.start();
    pools = shards.pools;
    map = new LiveShardMap(pools, seed, { instance: `group-fence-${process.pid}`, pollMs: 600_000 });
    await map.start();
    repository = new MysqlOrderRepository(
      pools.map((pool, shard) => recorded(pool, shard, trips)),
      map,
      'gf.orders.v1',
      { maxWaitMs: () => 5_000 },
    );
  });
  afterAll(async () => {
    await map?.stop();
    await shards.stop();
    for (const target of config.shards) await dropDatabase(target);
  });
  beforeEach(() => {
    trips.length = 0;
  });

  const SHARD = 1;
  const usedBuckets = new Set<number>();
  let customers = 0;
  /** A customer of a bucket on SHARD that no other customer of this spec has. */
  function customer(): { customerId: string; bucket: number } {
    for (;;) {
      const customerId = `gf-${process.pid}-${customers++}`;
      const bucket = bucketForCustomer(customerId);
      if (map.current.router.shardForBucket(bucket) !== SHARD || usedBuckets.has(bucket)) continue;
      usedBuckets.add(bucket);
      return { customerId, bucket };
    }
  }
  const orderCount = async (orderId: string) =>
    Number((await pools[SHARD]!.select<{ n: string }>('SELECT COUNT(*) AS n FROM orders WHERE id = ?', [orderId]))[0]!.n);

  it('when placed orders of several buckets share a transaction, then it opens with ONE orderflow_fence_many over their distinct buckets, and each is stored', async () => {
    const [lone, a, b] = [customer(), customer(), customer()];
    // The first write goes alone; the four behind it (two of one customer: one bucket twice) share the next transaction.
    const events = [lone, a, b, a, b].map((c) => placedEvent(ids, c.customerId, 'p'));
    expect(await Promise.all(events.map((event) => repository.insertPlaced(event)))).toEqual(events.map(() => true));

    expect(trips.map((t) => [t.shard, t.outcome, t.roundTrips.length])).toEqual([
      [SHARD, 'committed', 1],
      [SHARD, 'committed', 1],
    ]);
    expect(fenceCalls(trips[0]!)).toEqual([{ sql: 'CALL orderflow_fence(?, ?)', values: [lone.bucket, map.current.version] }]);
    const shared = trips[1]!.roundTrips[0]!;
    expect(shared[0]).toEqual({
      sql: 'CALL orderflow_fence_many(?, ?)',
      values: [JSON.stringify([a.bucket, b.bucket].sort((x, y) => x - y)), map.current.version],
    });
    expect(fenceCalls(trips[1]!)).toHaveLength(1);
    for (const event of events) expect(await orderCount(event.order.id)).toBe(1);
  });

  it('when one bucket of a shared transaction is fenced, then its one fence refuses it before any write, and each order is then stored alone (the fenced one once the lease lapses)', async () => {
    const [lone, fenced, ...others] = [customer(), customer(), customer(), customer(), customer()];
    const leaseMs = 1_500;
    await pools[SHARD]!.run([
      {
        sql: `UPDATE shard_buckets SET state = 'FENCED', fenced_until = NOW(3) + INTERVAL ? MICROSECOND, updated_at = NOW(3) WHERE bucket = ?`,
        values: [leaseMs * 1000, fenced.bucket],
      },
    ]);
    const fencedAt = Date.now();
    const group = [others[0]!, fenced, ...others.slice(1)];
    const events = [lone, ...group].map((c) => placedEvent(ids, c.customerId, 'p'));
    const storedAt: number[] = [];
    const writes = events.map(async (event, i) => {
      const stored = await repository.insertPlaced(event);
      storedAt[i] = Date.now();
      return stored;
    });
    // The fenced order's neighbours are stored at once, not held back; it is not there while its bucket is fenced.
    await Promise.all([0, 1, 3, 4].map((i) => writes[i]));
    expect(Date.now()).toBeLessThan(fencedAt + leaseMs);
    expect(await orderCount(events[2]!.order.id)).toBe(0);

    expect(await Promise.all(writes)).toEqual(events.map(() => true));
    for (const event of events) expect(await orderCount(event.order.id)).toBe(1);
    expect(storedAt[2]).toBeGreaterThanOrEqual(fencedAt + leaseMs - 50);

    const [alone, sharedTrip, ...rest] = trips;
    expect(alone!.outcome).toBe('committed');
    // The shared transaction: its first statement, its only fence, is over all four buckets; refused, it wrote nothing.
    expect(sharedTrip!.outcome).toBe('fenced');
    expect(sharedTrip!.roundTrips).toHaveLength(1);
    expect(sharedTrip!.roundTrips[0]![0]).toEqual({
      sql: 'CALL orderflow_fence_many(?, ?)',
      values: [JSON.stringify(group.map((c) => c.bucket).sort((x, y) => x - y)), map.current.version],
    });
    expect(fenceCalls(sharedTrip!)).toHaveLength(1);
    // Then each order alone behind its own bucket's fence: three stored at once, the fenced one refused until the lease lapsed.
    const byBucket = (bucket: number) => rest.filter((t) => fenceCalls(t)[0]!.values![0] === bucket);
    for (const c of others) expect(byBucket(c.bucket).map((t) => t.outcome)).toEqual(['committed']);
    const fencedTrips = byBucket(fenced.bucket).map((t) => t.outcome);
    expect(fencedTrips.at(-1)).toBe('committed');
    expect(fencedTrips.slice(0, -1).length).toBeGreaterThan(0);
    expect(new Set(fencedTrips.slice(0, -1))).toEqual(new Set(['fenced']));
    for (const trip of rest) expect(fenceCalls(trip)).toEqual([{ sql: 'CALL orderflow_fence(?, ?)', values: [expect.any(Number), map.current.version] }]);
  });
});
