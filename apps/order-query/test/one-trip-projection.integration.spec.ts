import { createSqlPool, ensureDatabase, migrate, SqlPool, SqlTransaction, Statement } from '@orderflow/database';
import { orderV1 } from '@orderflow/proto';
import { LiveShardMap } from '@orderflow/shard-control';
import { bucketForCustomer, shardMapFromConfig, ShardRouter } from '@orderflow/sharding';
import { decideBatch } from '../src/domain/batch-projection';
import type { OrderEvent } from '../src/domain/model';
import { validateOrderEvent } from '../src/domain/validation';
import type { OrderQueryConfig } from '../src/config';
import { READ_SHARD_MIGRATIONS } from '../src/infrastructure/mysql/migrations/0001-create-read-shard';
import { MysqlOrderViewStore } from '../src/infrastructure/mysql/order-view.store';
import { decodeOrderEvent } from '../src/infrastructure/nats/order-event.codec';
import { cleanUp, orderHistory, queryConfig } from './support';

/** One transaction as the store ran it: its round trips, each the statements it sent; and whether it committed. */
interface Trip {
  roundTrips: Statement[][];
  committed: boolean;
}

/** The pool, with every transaction's round trips recorded (the rollback of a failed one is not a trip of its own work). */
function recorded(pool: SqlPool, trips: Trip[]): SqlPool {
  return new Proxy(pool, {
    get(target, prop) {
      if (prop === 'transaction') {
        return <T>(work: (tx: SqlTransaction) => Promise<T>) =>
          target.transaction((tx) => {
            const trip: Trip = { roundTrips: [], committed: false };
            trips.push(trip);
            const send = (commit: boolean) => async (statements: Statement[]) => {
              trip.roundTrips.push(statements);
              const results = await (commit ? tx.commitWith(statements) : tx.run(statements));
              if (commit) trip.committed = true;
              return results;
            };
            return work(Object.assign(Object.create(tx) as SqlTransaction, { run: send(false), commitWith: send(true) }));
          });
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * The view store's projection on real read shards: a batch whose orders stand where its events expect is
 * ONE transaction of ONE round trip (one fence statement, the guarded writes, the COMMIT); whatever the guess
 * got wrong is decided by a locked transaction, with the same decisions one-at-a-time projection makes.
 */
describe('projecting a batch in one round trip (real MariaDB x2)', () => {
  let config: OrderQueryConfig;
  let pools: SqlPool[];
  let map: LiveShardMap;
  let store: MysqlOrderViewStore;
  const trips: Trip[] = [];

  beforeAll(async () => {
    config = queryConfig();
    for (const target of config.shards) {
      await ensureDatabase(target);
      await migrate(target, READ_SHARD_MIGRATIONS);
    }
    pools = config.shards.map((target) => createSqlPool(target, { max: 4 }));
    map = new LiveShardMap(pools, new ShardRouter(shardMapFromConfig(undefined, 4)), { instance: `one-trip-${process.pid}`, pollMs: 600_000 });
    await map.start();
    store = new MysqlOrderViewStore(
      pools.map((pool) => recorded(pool, trips)),
      map,
      { maxWaitMs: 400 },
    );
  });
  afterAll(async () => {
    await map?.stop();
    await Promise.all((pools ?? []).map((pool) => pool.end()));
    if (config) await cleanUp(config);
  });
  beforeEach(() => {
    trips.length = 0;
  });

  const SHARD = 1;
  let customers = 0;
  /** A new customer whose bucket lives on SHARD and differs from every earlier one's. */
  const usedBuckets = new Set<number>();
  function customer(): string {
    for (;;) {
      const name = `one-trip-${process.pid}-${customers++}`;
      const bucket = bucketForCustomer(name);
      if (map.current.router.shardForBucket(bucket) === SHARD && !usedBuckets.has(bucket)) {
        usedBuckets.add(bucket);
        return name;
      }
    }
  }
  const checked = (event: orderV1.OrderEvent): OrderEvent => validateOrderEvent(decodeOrderEvent(orderV1.OrderEvent.encode(event).finish()));
  const project = (events: OrderEvent[]) => store.project(events, (stored) => decideBatch(events, stored), new Date(), 3);
  const view = async (orderId: string) =>
    (
      await pools[SHARD]!.select<{ version: string; status: string; customer_id: string; last_event_id: string }>(
        'SELECT version, status, customer_id, last_event_id FROM order_views WHERE order_id = CAST(? AS UNSIGNED)',
        [orderId],
      )
    )[0];
  const listing = (orderId: string) =>
    pools[SHARD]!.select<{ customer_id: string; version: string; status: string }>(
      'SELECT customer_id, version, status FROM customer_orders WHERE order_id = CAST(? AS UNSIGNED)',
      [orderId],
    );
  const fenceStatements = (trip: Trip) => trip.roundTrips.flat().filter((s) => s.sql.startsWith('CALL orderflow_fence'));

  /** Orders of new customers, each with its events (placed, paid, shipped), stored up to `stored` versions. */
  async function orders(count: number, stored: number): Promise<OrderEvent[][]> {
    const histories = Array.from({ length: count }, () => orderHistory(customer(), ['placed', 'paid', 'shipped']).map(checked));
    if (stored > 0) await project(histories.flatMap((events) => events.slice(0, stored)));
    trips.length = 0;
    return histories;
  }

  it('when a batch of new orders and next versions over several buckets arrives in order, then it is one transaction of one round trip with one fence statement', async () => {
    const [a, b, c] = await orders(3, 1);
    const [d] = await orders(1, 0);
    const events = [d![0]!, a![1]!, b![1]!, d![1]!, b![2]!, c![1]!];
    expect(await project(events)).toEqual(['insert', 'apply', 'apply', 'apply', 'apply', 'apply']);

    expect(trips).toHaveLength(1);
    expect(trips[0]!.roundTrips).toHaveLength(1);
    expect(trips[0]!.committed).toBe(true);
    expect(fenceStatements(trips[0]!)).toEqual([expect.objectContaining({ sql: 'CALL orderflow_fence_many(?, ?)' })]);
    for (const [events, version, status] of [
      [a!, 2, 'PAID'],
      [b!, 3, 'SHIPPED'],
      [c!, 2, 'PAID'],
      [d!, 2, 'PAID'],
    ] as const) {
      const orderId = events[0]!.orderId;
      expect(await view(orderId)).toEqual({
        version: String(version),
        status,
        customer_id: events[0]!.customerId,
        last_event_id: events[version - 1]!.eventId,
      });
      expect(await listing(orderId)).toEqual([{ customer_id: events[0]!.customerId, version: String(version), status }]);
    }
  });

  it('when a version comes before its predecessor beside events in order, then those apply in the first round trip and the early one is out of order, writing nothing', async () => {
    const [a, b] = await orders(2, 1);
    const [c] = await orders(1, 0);
    expect(await project([c![0]!, b![2]!, a![1]!])).toEqual(['insert', 'out-of-order', 'apply']);

    // The first transaction committed what applied; a locked one decided the early version, read and wrote nothing (the pool ends it).
    expect(trips.map((t) => [t.roundTrips.length, t.committed])).toEqual([
      [1, true],
      [1, false],
    ]);
    expect(trips[1]!.roundTrips[0]!.at(-1)!.sql).toMatch(/FOR UPDATE$/);
    expect(await view(b![0]!.orderId)).toMatchObject({ version: '1', status: 'RESERVED' });
    expect(await listing(b![0]!.orderId)).toEqual([expect.objectContaining({ version: '1', status: 'RESERVED' })]);
    expect(await view(a![0]!.orderId)).toMatchObject({ version: '2' });
    expect(await view(c![0]!.orderId)).toMatchObject({ version: '1' });
  });

  it('when a version already applied is redelivered with the next one, then the repeat is a duplicate and the next applies, once', async () => {
    const [a] = await orders(1, 2);
    expect(await project([a![1]!, a![2]!])).toEqual(['duplicate', 'apply']);
    expect(await view(a![0]!.orderId)).toMatchObject({ version: '3', status: 'SHIPPED', last_event_id: a![2]!.eventId });
    expect(await listing(a![0]!.orderId)).toEqual([expect.objectContaining({ version: '3', status: 'SHIPPED' })]);
    // Again, alone: nothing changes.
    expect(await project([a![2]!])).toEqual(['duplicate']);
    expect(await view(a![0]!.orderId)).toMatchObject({ version: '3', last_event_id: a![2]!.eventId });
  });

  it('when a version 1 whose view is stored comes again, then the first try commits nothing and the locked transaction decides every event', async () => {
    const [a, b] = await orders(2, 1);
    const [c] = await orders(1, 0);
    expect(await project([c![0]!, a![0]!, b![1]!])).toEqual(['insert', 'duplicate', 'apply']);
    expect(trips.map((t) => [t.roundTrips.length, t.committed])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(await view(a![0]!.orderId)).toMatchObject({ version: '1' });
    expect(await view(b![0]!.orderId)).toMatchObject({ version: '2' });
    expect(await listing(c![0]!.orderId)).toHaveLength(1);
  });

  it("when an event names another customer than the order's view, then it is a conflict and neither the view nor any listing row changes", async () => {
    const [a] = await orders(1, 1);
    const other = customer();
    const forged: OrderEvent = { ...a![1]!, customerId: other, order: { ...a![1]!.order, customerId: other } };
    expect(await project([forged])).toEqual(['conflict']);
    expect(await view(a![0]!.orderId)).toMatchObject({ version: '1', customer_id: a![0]!.customerId });
    expect(await listing(a![0]!.orderId)).toEqual([{ customer_id: a![0]!.customerId, version: '1', status: 'RESERVED' }]);
  });
});
