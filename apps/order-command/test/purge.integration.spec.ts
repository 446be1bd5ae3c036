import { createSqlPool, rowsOf, SqlPool } from '@orderflow/database';
import { connectNats } from '@orderflow/messaging';
import { heldBucketCondition } from '@orderflow/shard-control';
import { shardMapFromConfig, ShardRouter } from '@orderflow/sharding';
import { InventoryProcess, orderCommandConfig, RunningOrderCommand, startInventoryProcess, startOrderCommand } from './support';

describe('retention purge of idempotency keys and published outbox rows (real MariaDB x2, NATS and the inventory process)', () => {
  let inventory: InventoryProcess;
  let oc: RunningOrderCommand;
  let pools: SqlPool[];
  let router: ShardRouter;
  const batchSize = 10;

  beforeAll(async () => {
    inventory = await startInventoryProcess();
    // No relay: the test decides which outbox rows count as published. The purger runs only when asked.
    oc = await startOrderCommand(orderCommandConfig(inventory.address, { ORDER_PURGE_INTERVAL_MS: '3600000', ORDER_PURGE_BATCH_SIZE: String(batchSize) }), {
      relay: false,
    });
    pools = oc.config.shards.map((s) => createSqlPool(s, { max: 2 }));
    router = new ShardRouter(shardMapFromConfig(undefined, oc.config.shards.length));
    await inventory.api.upsertProduct({ id: 'purge-p', name: 'purge-p', priceMinor: 1000, available: 10_000 });
  });
  afterAll(async () => {
    await Promise.all((pools ?? []).map((p) => p.end()));
    await oc?.stop();
    await inventory?.stop();
  });

  const place = (customerId: string, idempotencyKey: string) =>
    oc.api.placeOrder({
      customerId,
      idempotencyKey,
      items: [{ productId: 'purge-p', quantity: 1, unitPriceMinor: 1000 }],
      address: '1 Main St',
      paymentMethod: 'card',
    });
  const shardOf = (customerId: string) => pools[router.shardForCustomer(customerId)]!;
  const sql = async <T>(pool: SqlPool, statement: string, values: unknown[] = []) => rowsOf<T>((await pool.run([{ sql: statement, values }]))[0]);
  const keysOf = async (customerId: string) =>
    (
      await sql<{ idempotency_key: string; state: string }>(
        shardOf(customerId),
        `SELECT idempotency_key, state FROM idempotency_keys WHERE customer_id = ? ORDER BY idempotency_key`,
        [customerId],
      )
    ).map((r) => `${r.idempotency_key}:${r.state}`);
  const insertKey = (customerId: string, key: string, state: 'DONE' | 'IN_FLIGHT', ageHours: number) =>
    sql(
      shardOf(customerId),
      `INSERT INTO idempotency_keys (customer_id, idempotency_key, fingerprint, order_id, state, response, created_at, updated_at)
       VALUES (?, ?, REPEAT('0', 64), ?, ?, NULL, NOW(3) - INTERVAL ? HOUR, NOW(3) - INTERVAL ? HOUR)`,
      // An order id in the customer's bucket, as every key's is (the purge keeps to the buckets a shard holds).
      [customerId, key, router.bucketForCustomer(customerId) * 4096 + 1, state, ageHours, ageHours],
    );

  it('when a finished key is older than IDEMPOTENCY_KEY_TTL_MS, then it is purged and the key places a new order; a recent key still replays, an in-flight key is never purged', async () => {
    const old = await place('ivy', 'key-old');
    const recent = await place('ivy', 'key-recent');
    await sql(shardOf('ivy'), `UPDATE idempotency_keys SET created_at = NOW(3) - INTERVAL 25 HOUR WHERE customer_id = 'ivy' AND idempotency_key = 'key-old'`);
    await insertKey('ivy', 'key-stuck', 'IN_FLIGHT', 72);
    expect(await keysOf('ivy')).toEqual(['key-old:DONE', 'key-recent:DONE', 'key-stuck:IN_FLIGHT']);

    const result = await oc.app.purger.purge();

    expect(result?.idempotencyKeys).toBe(1);
    expect(await keysOf('ivy')).toEqual(['key-recent:DONE', 'key-stuck:IN_FLIGHT']);
    const replay = await place('ivy', 'key-recent');
    expect(replay.replayed).toBe(true);
    expect(replay.order!.id).toBe(recent.order!.id);
    const reused = await place('ivy', 'key-old');
    expect(reused.replayed).toBe(false);
    expect(reused.order!.id).not.toBe(old.order!.id);
    expect(await keysOf('ivy')).toEqual(['key-old:DONE', 'key-recent:DONE', 'key-stuck:IN_FLIGHT']);
  });

  it('when a key is just inside the 24-hour window, then the purge keeps it and a retry replays the first answer, placing no second order', async () => {
    const first = await place('jade', 'almost-a-day');
    await sql(shardOf('jade'), `UPDATE idempotency_keys SET created_at = NOW(3) - INTERVAL 23 HOUR WHERE customer_id = 'jade'`);
    await oc.app.purger.purge();
    const retry = await place('jade', 'almost-a-day');
    expect(retry).toMatchObject({ replayed: true, order: { id: first.order!.id } });
  });

  it('when published outbox rows are older than OUTBOX_RETENTION_MS, then they are purged; recent and unsent rows stay, however old', async () => {
    const orders = await Promise.all(['kai', 'lea', 'max', 'noa'].map((c) => place(c, '')));
    const ids = orders.map((o) => o.order!.id);
    const shardOfOrder = (id: string) => pools[router.shardForOrderId(id)]!;
    const [oldSent, recentSent, oldUnsent] = ids;
    await sql(shardOfOrder(oldSent!), `UPDATE outbox SET sent_at = NOW(3) - INTERVAL 2 DAY, created_at = NOW(3) - INTERVAL 2 DAY WHERE order_id = ?`, [
      oldSent,
    ]);
    await sql(shardOfOrder(recentSent!), `UPDATE outbox SET sent_at = NOW(3) - INTERVAL 1 HOUR WHERE order_id = ?`, [recentSent]);
    await sql(shardOfOrder(oldUnsent!), `UPDATE outbox SET created_at = NOW(3) - INTERVAL 30 DAY WHERE order_id = ?`, [oldUnsent]);

    const result = await oc.app.purger.purge();

    expect(result?.outbox).toBe(1);
    const left = async (id: string) => (await sql<{ n: string | number }>(shardOfOrder(id), `SELECT COUNT(*) AS n FROM outbox WHERE order_id = ?`, [id]))[0]!.n;
    expect(Number(await left(oldSent!))).toBe(0);
    expect(Number(await left(recentSent!))).toBe(1);
    expect(Number(await left(oldUnsent!))).toBe(1);
    expect(Number(await left(ids[3]!))).toBe(1);
  });

  it('when a shard holds a backlog of expired keys, then each DELETE takes at most the batch size and repeated batches clear it', async () => {
    const customer = 'backlog-customer';
    for (let i = 0; i < 25; i++) await insertKey(customer, `bulk-${String(i).padStart(2, '0')}`, 'DONE', 48);
    const before = new Date(Date.now() - 24 * 3600_000);

    expect(await oc.app.repository.purgeIdempotencyKeys(before, batchSize)).toEqual({ deleted: 10, more: true });
    expect((await keysOf(customer)).length).toBe(15);
    // The oldest go first: the DELETE follows the (state, created_at) index.
    const result = await oc.app.purger.purge();
    expect(result?.idempotencyKeys).toBe(15);
    expect(result?.batches).toBeGreaterThanOrEqual(3); // 10 + 5 keys, then the outbox's one batch
    expect(await keysOf(customer)).toEqual([]);
  });

  it('when the purge deletes, then MariaDB plans it on an index range, not a table scan', async () => {
    const pool = pools[0]!;
    const plan = async (statement: string) => (await sql<{ type: string; key: string | null }>(pool, `EXPLAIN ${statement}`, [new Date(0), batchSize]))[0]!;
    const held = heldBucketCondition('order_id');
    expect(await plan(`DELETE FROM idempotency_keys WHERE state = 'DONE' AND created_at < ? AND ${held} ORDER BY created_at LIMIT ?`)).toMatchObject({
      type: 'range',
      key: 'idempotency_keys_state_created',
    });
    expect(await plan(`DELETE FROM outbox WHERE sent_at < ? AND ${held} ORDER BY sent_at LIMIT ?`)).toMatchObject({ type: 'range', key: 'outbox_unsent' });
  });

  it('when the process starts, then the ORDERS stream has the configured age and byte bounds, and a changed bound updates the existing stream', async () => {
    const nc = await connectNats({ servers: oc.config.nats.servers, name: 'purge-stream-test' });
    try {
      const jsm = await nc.jetstreamManager();
      const config = (await jsm.streams.info(oc.config.nats.stream)).config;
      expect(config.max_age).toBe(7 * 24 * 3600_000 * 1_000_000);
      expect(config.max_bytes).toBe(64 * 1024 * 1024);

      const other = await startOrderCommand(
        { ...oc.config, nats: { ...oc.config.nats, maxAgeMs: 3 * 24 * 3600_000, maxBytes: 32 * 1024 * 1024 }, roles: ['relay'] },
        { relay: false },
      );
      await other.stop({ keepData: true });
      const updated = (await jsm.streams.info(oc.config.nats.stream)).config;
      expect(updated.max_age).toBe(3 * 24 * 3600_000 * 1_000_000);
      expect(updated.max_bytes).toBe(32 * 1024 * 1024);
    } finally {
      await nc.close();
    }
  });
});
