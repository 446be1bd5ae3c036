import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { createSqlPool, type SqlPool, toSqlDateTime } from '@orderflow/database';
import { errorContract, errorDetails, orderV1 } from '@orderflow/proto';
import { bucketForCustomer, bucketOfOrderId, parseShardMap, ShardMap } from '@orderflow/sharding';
import { ShardedOrderIds } from '../src/infrastructure/order-ids';
import { customer, InventoryProcess, orderCommandConfig, placedEvent, RunningOrderCommand, startInventoryProcess, startOrderCommand } from './support';

/**
 * Online bucket moves as order-command sees them (ADR 0009). The test plays the mover with SQL: fence the
 * bucket on its source (a lease), copy its rows to the target, then switch (source MOVED and target OWNED
 * at version V+1, the map row to V+1).
 */

/** The tables a move copies by order id, with the column that carries it (the outbox without its auto-increment id). */
const MOVED_TABLES = [
  ['orders', 'id'],
  ['order_items', 'order_id'],
  ['order_history', 'order_id'],
  ['idempotency_keys', 'order_id'],
  ['outbox', 'order_id'],
] as const;

/** An outbox row as a move copies it: the target gives it an id of its own. */
const withoutId = (row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).filter(([column]) => column !== 'id'));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('order-command writes through the live shard map and the fence (real MariaDB x2, NATS and the inventory process)', () => {
  let inventory: InventoryProcess;
  /** Polls the map every 100 ms; waits out a switch for 1.5 s at most. */
  let oc: RunningOrderCommand;
  /** The same shards, a map read once an hour: it still routes with the map it started with. */
  let stale: RunningOrderCommand;
  let pools: SqlPool[];
  const usedBuckets = new Set<number>();

  beforeAll(async () => {
    inventory = await startInventoryProcess();
    const config = orderCommandConfig(inventory.address, { ORDER_SHARD_MAP_POLL_MS: '100', ORDER_SHARD_MOVE_MAX_WAIT_MS: '1500' });
    oc = await startOrderCommand(config);
    stale = await startOrderCommand({ ...config, shardMapPollMs: 3_600_000, roles: ['api'] }, { relay: false });
    pools = config.shards.map((shard) => createSqlPool(shard, { max: 4 }));
    await inventory.api.upsertProduct({ id: 'fence-p', name: 'fence-p', priceMinor: 100, available: 100_000 });
  });
  afterAll(async () => {
    await Promise.all((pools ?? []).map((pool) => pool.end()));
    await stale?.stop({ keepData: true });
    await oc?.stop();
    await inventory?.stop();
  });

  const placeWith = (api: RunningOrderCommand['api'], customerId: string, idempotencyKey = '') =>
    api.placeOrder({
      customerId,
      idempotencyKey,
      items: [{ productId: 'fence-p', quantity: 1, unitPriceMinor: 100 }],
      address: '1 Main St',
      paymentMethod: 'card',
    });
  const reservedStock = async () => (await inventory.api.getProducts({ productIds: ['fence-p'] })).products[0]!.reserved;

  /** The map as stored on shard 0. */
  async function storedMap(): Promise<{ version: number; map: ShardMap }> {
    const [row] = await pools[0]!.select<{ version: string; spec: string }>('SELECT CAST(version AS CHAR) AS version, spec FROM shard_map WHERE id = 1');
    return { version: Number(row!.version), map: parseShardMap(row!.spec, pools.length) };
  }

  /** A customer of a bucket no other test uses, on `shard` (by the stored map) when given. */
  async function freshCustomer(prefix: string, shard?: number): Promise<{ customerId: string; bucket: number; source: number }> {
    const { map } = await storedMap();
    for (let i = 0; ; i++) {
      const customerId = `${prefix}-${i}`;
      const bucket = bucketForCustomer(customerId);
      const source = map.shardForBucket(bucket);
      if (usedBuckets.has(bucket) || (shard !== undefined && source !== shard)) continue;
      usedBuckets.add(bucket);
      return { customerId, bucket, source };
    }
  }

  /** The mover's fence: writes to the bucket on `shard` are refused until the lease ends (or a switch). */
  async function fence(bucket: number, shard: number, leaseMs: number): Promise<void> {
    await pools[shard]!.run([
      {
        sql: `UPDATE shard_buckets SET state = 'FENCED', fenced_until = NOW(3) + INTERVAL ? MICROSECOND, updated_at = NOW(3) WHERE bucket = ?`,
        values: [leaseMs * 1000, bucket],
      },
    ]);
  }

  /** The mover's copy: every row of the bucket, source to target, as it is now. */
  async function copyBucket(bucket: number, source: number, target: number): Promise<void> {
    for (const [table, column] of MOVED_TABLES) {
      const rows = await pools[source]!.select<Record<string, unknown>>(`SELECT * FROM ${table} WHERE ((${column} >> 12) & 1023) = ?`, [bucket]);
      const copies = rows.map((row) => (table === 'outbox' ? withoutId(row) : row));
      if (copies.length === 0) continue;
      const columns = Object.keys(copies[0]!);
      await pools[target]!.run([{ sql: `REPLACE INTO ${table} (${columns.join(', ')}) VALUES ?`, values: [copies.map((row) => columns.map((c) => row[c]))] }]);
    }
  }

  /** The mover's switch: source MOVED and target OWNED at V+1, then the map row to V+1 (compare-and-set on V). */
  async function switchBucket(bucket: number, source: number, target: number): Promise<number> {
    const { version, map } = await storedMap();
    const next = version + 1;
    const ranges = map.ranges().flatMap((range) =>
      range.from <= bucket && bucket <= range.to
        ? [
            { from: range.from, to: bucket - 1, shard: range.shard },
            { from: bucket, to: bucket, shard: target },
            { from: bucket + 1, to: range.to, shard: range.shard },
          ].filter((part) => part.from <= part.to)
        : [range],
    );
    await pools[source]!.run([
      { sql: `UPDATE shard_buckets SET state = 'MOVED', epoch = ?, fenced_until = NULL, updated_at = NOW(3) WHERE bucket = ?`, values: [next, bucket] },
    ]);
    await pools[target]!.run([
      {
        sql: `INSERT INTO shard_buckets (bucket, epoch, state, updated_at) VALUES (?, ?, 'OWNED', NOW(3))
              ON DUPLICATE KEY UPDATE epoch = VALUES(epoch), state = 'OWNED', fenced_until = NULL, updated_at = NOW(3)`,
        values: [bucket, next],
      },
    ]);
    const [result] = await pools[0]!.run([
      {
        sql: 'UPDATE shard_map SET version = ?, spec = ?, updated_at = NOW(3) WHERE id = 1 AND version = ?',
        values: [next, ShardMap.fromRanges(ranges, pools.length).toString(), version],
      },
    ]);
    expect(result).toMatchObject({ affectedRows: 1 });
    return next;
  }

  /** A whole move of one bucket, fenced from the copy to the switch. */
  async function moveBucket(bucket: number, source: number, target: number): Promise<number> {
    await fence(bucket, source, 10_000);
    await copyBucket(bucket, source, target);
    return switchBucket(bucket, source, target);
  }

  const otherShard = (shard: number) => (shard + 1) % pools.length;

  /** Everything a shard holds of a bucket, row by row: equal before and after means nothing was written there. */
  async function bucketRows(shard: number, bucket: number): Promise<string[]> {
    const tables = await Promise.all(
      MOVED_TABLES.map(async ([table, column]) => {
        const rows = await pools[shard]!.select<Record<string, unknown>>(`SELECT * FROM ${table} WHERE ((${column} >> 12) & 1023) = ? ORDER BY 1, 2`, [bucket]);
        return rows.map((row) => `${table}:${JSON.stringify(row)}`);
      }),
    );
    return tables.flat();
  }

  const orderCount = async (shard: number, orderId: string) =>
    Number((await pools[shard]!.select<{ n: string }>('SELECT COUNT(*) AS n FROM orders WHERE id = ?', [orderId]))[0]!.n);
  const statusOn = async (shard: number, orderId: string) =>
    (await pools[shard]!.select<{ status: string }>('SELECT status FROM orders WHERE id = ?', [orderId]))[0]?.status;

  const metricValue = async (run: RunningOrderCommand, name: string) => (await run.app.metrics.getSingleMetric(name)!.get()).values[0]?.value ?? 0;

  /** Waits until the relay has sent every event (so no relay batch of the bucket is in flight while the test moves it). */
  async function outboxDrained(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await oc.app.relay.backlog()) > 0) {
      if (Date.now() > deadline) throw new Error('the outbox did not drain');
      await sleep(20);
    }
  }

  /** Waits until the process routes with `version` (it polls the map). */
  async function untilHeld(run: RunningOrderCommand, version: number): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (run.app.shardMap.current.version < version) {
      if (Date.now() > deadline) throw new Error(`the process did not take map version ${version}`);
      await sleep(20);
    }
  }

  it('when a bucket is moved under the app, then a retried key replays, Pay and new orders of that customer land on the new shard, and nothing is written to the old one', async () => {
    const { customerId, bucket, source } = await freshCustomer('moved');
    const target = otherShard(source);
    const first = await placeWith(oc.api, customerId, 'moved-key');
    const orderId = first.order!.id;
    expect(bucketOfOrderId(orderId)).toBe(bucket);
    await outboxDrained();

    const version = await moveBucket(bucket, source, target);
    await untilHeld(oc, version);
    const left = await bucketRows(source, bucket);

    const replay = await placeWith(oc.api, customerId, 'moved-key');
    expect({ replayed: replay.replayed, order: replay.order }).toEqual({ replayed: true, order: first.order });
    const paid = await oc.api.payOrder({ orderId, actor: customer(customerId) });
    expect(paid.order?.status).toBe(orderV1.OrderStatus.ORDER_STATUS_PAID);
    const next = await placeWith(oc.api, customerId);
    const keyed = await placeWith(oc.api, customerId, 'moved-key-2');

    expect(await statusOn(target, orderId)).toBe('PAID');
    expect(await statusOn(source, orderId)).toBe('RESERVED'); // the copy left behind, untouched
    for (const id of [next.order!.id, keyed.order!.id]) expect([await orderCount(source, id), await orderCount(target, id)]).toEqual([0, 1]);
    expect(await bucketRows(source, bucket)).toEqual(left);
    const read = await oc.api.getOrder({ orderId, actor: customer(customerId) });
    expect(read.order?.status).toBe(orderV1.OrderStatus.ORDER_STATUS_PAID);
  });

  it('when a process still holds the old map after a switch, then its write is fenced on the old shard, it reads the map again and the write lands on the new shard', async () => {
    const { customerId, bucket, source } = await freshCustomer('stale');
    const target = otherShard(source);
    const placed = await placeWith(stale.api, customerId);
    const heldBefore = stale.app.shardMap.current.version;
    await outboxDrained();

    const version = await moveBucket(bucket, source, target);
    expect(stale.app.shardMap.current.version).toBe(heldBefore); // no poll for an hour: it routes with the old map
    const left = await bucketRows(source, bucket);
    const fencedBefore = await metricValue(stale, 'orderflow_shard_fenced_writes_total');

    const cancelled = await stale.api.cancelOrder({ orderId: placed.order!.id, actor: customer(customerId) });
    expect(cancelled.order?.status).toBe(orderV1.OrderStatus.ORDER_STATUS_CANCELLED);
    const next = await placeWith(stale.api, customerId);

    expect(await metricValue(stale, 'orderflow_shard_fenced_writes_total')).toBe(fencedBefore + 1); // one refusal, then the new map
    expect(stale.app.shardMap.current.version).toBe(version);
    expect(await metricValue(stale, 'orderflow_shard_map_version')).toBe(version);
    expect(await statusOn(target, placed.order!.id)).toBe('CANCELLED');
    expect([await orderCount(source, next.order!.id), await orderCount(target, next.order!.id)]).toEqual([0, 1]);
    expect(await bucketRows(source, bucket)).toEqual(left);
  });

  it("when a process still holds the old map after a switch, then a placement under the gateway's own key is fenced on the old shard, lands with its key on the new shard, and its repeat replays there", async () => {
    const { customerId, bucket, source } = await freshCustomer('stale-gateway-key');
    const target = otherShard(source);
    const version = await moveBucket(bucket, source, target);
    expect(stale.app.shardMap.current.version).toBeLessThan(version);
    const left = await bucketRows(source, bucket);
    const [fencedBefore, reservedBefore] = [await metricValue(stale, 'orderflow_shard_fenced_writes_total'), await reservedStock()];
    const body = {
      customerId,
      idempotencyKey: `~gateway:${customerId}`,
      idempotencyKeyMadeByGateway: true,
      items: [{ productId: 'fence-p', quantity: 1, unitPriceMinor: 100 }],
      address: '1 Main St',
      paymentMethod: 'card',
    };

    const placed = await stale.api.placeOrder(body);
    expect(await metricValue(stale, 'orderflow_shard_fenced_writes_total')).toBe(fencedBefore + 1);
    expect([await orderCount(source, placed.order!.id), await orderCount(target, placed.order!.id)]).toEqual([0, 1]);
    const keyOn = (shard: number) =>
      pools[shard]!.select<{ state: string }>('SELECT state FROM idempotency_keys WHERE customer_id = ? AND idempotency_key = ?', [
        customerId,
        body.idempotencyKey,
      ]);
    expect([await keyOn(source), await keyOn(target)]).toEqual([[], [{ state: 'DONE' }]]);
    expect(await bucketRows(source, bucket)).toEqual(left);

    await untilHeld(oc, version);
    expect(await oc.api.placeOrder(body)).toEqual({ order: placed.order, replayed: true });
    expect(await reservedStock()).toBe(reservedBefore + 1);
  });

  it('when a process still holds the old map after a move has cleaned up its source, then it reads the order on the new shard (not NOT_FOUND) and pays it there', async () => {
    const { customerId, bucket, source } = await freshCustomer('stale-read');
    const target = otherShard(source);
    const placed = await placeWith(oc.api, customerId);
    await outboxDrained();
    const version = await moveBucket(bucket, source, target);
    // The move's clean-up: the source's rows of the bucket are gone.
    for (const [table, column] of MOVED_TABLES)
      await pools[source]!.run([{ sql: `DELETE FROM ${table} WHERE ((${column} >> 12) & 1023) = ?`, values: [bucket] }]);
    expect(stale.app.shardMap.current.version).toBeLessThan(version);

    const read = await stale.api.getOrder({ orderId: placed.order!.id, actor: customer(customerId) });
    expect(read.order).toEqual(placed.order);
    expect(stale.app.shardMap.current.version).toBe(version); // the miss read the map again
    const paid = await stale.api.payOrder({ orderId: placed.order!.id, actor: customer(customerId) });
    expect(paid.order?.status).toBe(orderV1.OrderStatus.ORDER_STATUS_PAID);
    expect([await statusOn(source, placed.order!.id), await statusOn(target, placed.order!.id)]).toEqual([undefined, 'PAID']);
  });

  it('when a bucket is fenced and the switch comes within the wait bound, then its writes wait and land on the new shard', async () => {
    const { customerId, bucket, source } = await freshCustomer('fenced-switch');
    const target = otherShard(source);
    const before = await placeWith(oc.api, customerId);
    await fence(bucket, source, 10_000);
    await copyBucket(bucket, source, target);

    const started = Date.now();
    const placing = placeWith(oc.api, customerId);
    const paying = oc.api.payOrder({ orderId: before.order!.id, actor: customer(customerId) });
    await sleep(400);
    await switchBucket(bucket, source, target);
    const [placed, paid] = await Promise.all([placing, paying]);

    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(paid.order?.status).toBe(orderV1.OrderStatus.ORDER_STATUS_PAID);
    expect([await orderCount(source, placed.order!.id), await orderCount(target, placed.order!.id)]).toEqual([0, 1]);
    expect([await statusOn(source, before.order!.id), await statusOn(target, before.order!.id)]).toEqual(['RESERVED', 'PAID']);
  });

  it('when a bucket stays fenced past the wait bound, then its writes fail UNAVAILABLE with a retry-after, nothing is stored and the stock comes back; once the lease lapses they go through', async () => {
    const { customerId, bucket, source } = await freshCustomer('fenced-stuck');
    const reserved = await reservedStock();
    const left = await bucketRows(source, bucket);
    await fence(bucket, source, 60_000);

    const started = Date.now();
    const error = (await placeWith(oc.api, customerId).catch((e: unknown) => e)) as ServiceError;
    const waited = Date.now() - started;
    expect([error.code, errorContract.reasonOf(error)]).toEqual([status.UNAVAILABLE, 'unavailable']);
    expect(errorDetails.readRetryAfterMs(error.metadata)).toBeGreaterThan(0);
    expect(waited).toBeGreaterThanOrEqual(1_400); // ORDER_SHARD_MOVE_MAX_WAIT_MS
    expect(waited).toBeLessThan(4_000);
    expect(await bucketRows(source, bucket)).toEqual(left);
    expect(await reservedStock()).toBe(reserved);

    // A call whose deadline is nearer than the bound is answered UNAVAILABLE before its deadline, not DEADLINE_EXCEEDED.
    const short = await new Promise<ServiceError | null>((resolve) =>
      oc.api.client.placeOrder(
        { customerId, idempotencyKey: '', items: [{ productId: 'fence-p', quantity: 1, unitPriceMinor: 100 }], address: 'A', paymentMethod: 'card' },
        new Metadata(),
        { deadline: new Date(Date.now() + 900) },
        (e) => resolve(e),
      ),
    );
    expect(short?.code).toBe(status.UNAVAILABLE);

    // The mover died fenced: once its lease lapses, the bucket takes writes again where it was.
    await pools[source]!.run([{ sql: 'UPDATE shard_buckets SET fenced_until = NOW(3) - INTERVAL 1 SECOND WHERE bucket = ?', values: [bucket] }]);
    const placed = await placeWith(oc.api, customerId);
    expect(await orderCount(source, placed.order!.id)).toBe(1);
  });

  it('when one order of a group commit is in a fenced bucket, then the others of its batch are stored at once and it lands on the new shard after the switch', async () => {
    const shard = 1;
    const fencedCustomer = await freshCustomer('group-fenced', shard);
    const others = await Promise.all(Array.from({ length: 7 }, (_, i) => freshCustomer(`group-${i}`, shard)));
    const target = otherShard(shard);
    await fence(fencedCustomer.bucket, shard, 10_000);
    const ids = new ShardedOrderIds();
    const eventFor = (customerId: string) => placedEvent(ids, customerId, 'fence-p');
    const fencedBefore = await metricValue(oc, 'orderflow_shard_fenced_writes_total');

    // The first write goes alone; the seven behind it share the next transaction, the fenced one among them.
    const customers = [others[0]!, others[1]!, others[2]!, fencedCustomer, ...others.slice(3)];
    const events = customers.map((c) => eventFor(c.customerId));
    const doneAt: number[] = [];
    const writes = events.map(async (event, i) => {
      const stored = await oc.app.repository.insertPlaced(event);
      doneAt[i] = Date.now();
      return stored;
    });
    await sleep(400);
    await copyBucket(fencedCustomer.bucket, shard, target);
    const switchedAt = Date.now();
    await switchBucket(fencedCustomer.bucket, shard, target);

    expect(await Promise.all(writes)).toEqual(events.map(() => true));
    const fencedIndex = customers.indexOf(fencedCustomer);
    doneAt.forEach((at, i) => (i === fencedIndex ? expect(at).toBeGreaterThanOrEqual(switchedAt) : expect(at).toBeLessThan(switchedAt)));
    for (const [i, event] of events.entries()) {
      const expected = i === fencedIndex ? [0, 1] : [1, 0];
      expect([await orderCount(shard, event.order.id), await orderCount(target, event.order.id)]).toEqual(expected);
    }
    expect(await metricValue(oc, 'orderflow_shard_fenced_writes_total')).toBeGreaterThan(fencedBefore);
  });

  it("when a shard holds rows of a bucket it does not own (a move's copies), then the sweeps and the purge leave them", async () => {
    const owned = await freshCustomer('sweep-owned');
    const copied = await freshCustomer('sweep-copied');
    const elsewhere = otherShard(copied.source);
    const ids = new ShardedOrderIds();
    const past = toSqlDateTime(new Date(Date.now() - 3_600_000));
    /** Orders past their expiry, a stale PENDING placement and an owed Commit, plus an old finished key, on `shard`. */
    const seed = async (customerId: string, shard: number) => {
      const [expired, pending, unsettled] = [ids.next(customerId), ids.next(customerId), ids.next(customerId)];
      const row = (id: string, status: string, action: string | null) => [id, customerId, status, 100, 'A', 'card', 1, action, past, past, past];
      await pools[shard]!.run([
        {
          sql: `INSERT INTO orders (id, customer_id, status, total_minor, address, payment_method, version, stock_action, created_at, updated_at, expires_at) VALUES ?`,
          values: [[row(expired, 'RESERVED', null), row(pending, 'PENDING', null), row(unsettled, 'PAID', 'COMMIT')]],
        },
        {
          sql: `INSERT INTO idempotency_keys (customer_id, idempotency_key, fingerprint, order_id, state, created_at, updated_at) VALUES (?, 'old', 'f', ?, 'DONE', ?, ?)`,
          values: [customerId, expired, toSqlDateTime(new Date(Date.now() - 48 * 3_600_000)), past],
        },
      ]);
      return [expired, pending, unsettled];
    };
    const [ownExpired, ownPending, ownUnsettled] = await seed(owned.customerId, owned.source);
    const [copyExpired, copyPending, copyUnsettled] = await seed(copied.customerId, elsewhere);
    const now = new Date();

    const expired = await oc.app.repository.findExpired(now, 1_000);
    expect(expired).toContain(ownExpired);
    expect(expired).not.toContain(copyExpired);
    const pending = (await oc.app.repository.findStalePending(now, 1_000)).map((p) => p.orderId);
    expect(pending).toContain(ownPending);
    expect(pending).not.toContain(copyPending);
    const unsettled = (await oc.app.repository.findUnsettled(now, 1_000)).map((u) => u.orderId);
    expect(unsettled).toContain(ownUnsettled);
    expect(unsettled).not.toContain(copyUnsettled);

    await oc.app.repository.purgeIdempotencyKeys(new Date(Date.now() - 24 * 3_600_000), 1_000);
    const keys = async (shard: number, customerId: string) =>
      Number((await pools[shard]!.select<{ n: string }>('SELECT COUNT(*) AS n FROM idempotency_keys WHERE customer_id = ?', [customerId]))[0]!.n);
    expect([await keys(owned.source, owned.customerId), await keys(elsewhere, copied.customerId)]).toEqual([0, 1]);
    // Tidy: these rows never had stock behind them.
    await pools[owned.source]!.run([{ sql: 'DELETE FROM orders WHERE customer_id = ?', values: [owned.customerId] }]);
    await pools[elsewhere]!.run([{ sql: 'DELETE FROM orders WHERE customer_id = ?', values: [copied.customerId] }]);
  });
});
