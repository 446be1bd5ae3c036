import { createSequelize } from '@orderflow/database';
import { decodeOrderId, shardMapFromConfig, ShardRouter } from '@orderflow/sharding';
import { QueryTypes, Sequelize, Transaction } from 'sequelize';
import { eventually, startTestSystem, TestSystem } from './support';

/** Design §8 invariants 1-4 and 6, through REST, checked against the databases themselves. */
describe('invariants through the REST API (all four services, real servers)', () => {
  let t: TestSystem;
  let admin: string;
  let orderShards: Sequelize[];
  let readShards: Sequelize[];
  let inventoryDb: Sequelize;
  const router = new ShardRouter(shardMapFromConfig(undefined, 4));

  beforeAll(async () => {
    // A payment window long enough that no order of the 1,000-order burst expires while it runs
    // (an expiry would hand its unit to a later request), short enough for invariant 4 to watch expiry.
    t = await startTestSystem({ PAYMENT_WINDOW_MS: '8000', ORDER_SWEEP_INTERVAL_MS: '200', RESERVATION_GRACE_MS: '60000' });
    admin = t.token('ops-admin', { admin: true });
    const connect = (spec: string) => {
      const [, host, port, database] = /^([^:]+):(\d+)\/(.+)$/.exec(spec)!;
      return createSequelize({ host: host!, port: Number(port), user: 'orderflow', password: 'orderflow', database: database! }, { max: 2 });
    };
    orderShards = t.env.ORDER_SHARDS!.split(',').map(connect);
    readShards = t.env.READ_SHARDS!.split(',').map(connect);
    inventoryDb = connect(`${t.env.INVENTORY_MYSQL_HOST}:${t.env.INVENTORY_MYSQL_PORT}/${t.env.INVENTORY_MYSQL_DATABASE}`);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([...(orderShards ?? []), ...(readShards ?? []), inventoryDb].filter(Boolean).map((db) => db.close()));
    await t?.stop();
  });

  const stock = async (id: string) =>
    (
      await inventoryDb.query<{ available: number; reserved: number; sold: number; received: number }>(
        'SELECT available, reserved, sold, received FROM products WHERE id = :id',
        { replacements: { id }, type: QueryTypes.SELECT },
      )
    )[0]!;
  const body = (productId: string, price: number, quantity = 1) => ({
    items: [{ product_id: productId, quantity, unit_price: price }],
    address: 'A',
    payment_method: 'card',
  });

  it('1. when 1,000 concurrent orders hit one product with stock 50, then exactly 50 succeed, the rest are 409, and stock is conserved', async () => {
    await t.http('PUT', '/api/products/flash', { token: admin, body: { name: 'Flash', price: 5, stock: 50 } });
    const tokens = Array.from({ length: 200 }, (_, i) => t.token(`flash-${i}`));
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => t.http('POST', '/api/orders', { token: tokens[i % 200], body: body('flash', 5) })),
    );
    const statuses = results.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
    expect(statuses).toEqual({ 201: 50, 409: 950 });
    // This file runs a short payment window (for invariant 4), so some of the 50 may have expired already:
    // the 50 answered 201 are exactly the 50 reservations ever made, each still held or released by expiry.
    // One consistent snapshot for both reads: the sweeper may expire more of them meanwhile.
    const { reservations, s } = await inventoryDb.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.REPEATABLE_READ }, async (transaction) => ({
      reservations: await inventoryDb.query<{ order_id: string; status: string; release_reason: string | null }>(
        "SELECT r.order_id, r.status, r.release_reason FROM reservations r JOIN reservation_items i ON i.order_id = r.order_id WHERE i.product_id = 'flash'",
        { type: QueryTypes.SELECT, transaction },
      ),
      s: (
        await inventoryDb.query<{ available: number; reserved: number; sold: number; received: number }>(
          "SELECT available, reserved, sold, received FROM products WHERE id = 'flash'",
          {
            type: QueryTypes.SELECT,
            transaction,
          },
        )
      )[0]!,
    }));
    const okIds = results.filter((r) => r.status === 201).map((r) => r.body.id as string);
    expect(reservations.map((r) => r.order_id).sort()).toEqual(okIds.sort());
    expect(reservations.every((r) => r.status === 'RESERVED' || (r.status === 'RELEASED' && r.release_reason === 'expired'))).toBe(true);
    expect(s).toMatchObject({ sold: 0, received: 50, reserved: reservations.filter((r) => r.status === 'RESERVED').length });
    expect(s.available + s.reserved + s.sold).toBe(s.received);
  }, 120_000);

  it('2. when orders are answered 201, then each exists exactly once on its own shard and, once drained, exactly once in the read side with the same status and total; nothing else appears', async () => {
    await t.http('PUT', '/api/products/inv2', { token: admin, body: { name: 'I2', price: 3.25, stock: 10_000 } });
    const placed = await Promise.all(
      Array.from({ length: 60 }, (_, i) => t.http('POST', '/api/orders', { token: t.token(`inv2-${i % 15}`), body: body('inv2', 3.25, 1 + (i % 3)) })),
    );
    expect(placed.every((r) => r.status === 201)).toBe(true);
    const orders = placed.map((r) => r.body);
    // Change some of them, so the read side must follow more than one event per order.
    await Promise.all(
      orders.slice(0, 20).map((o) => t.http('POST', `/api/orders/${o.id}/${Number(o.id) % 2 ? 'pay' : 'cancel'}`, { token: t.token(o.customer_id) })),
    );
    const expected = new Map<string, { status: string; total: number }>();
    for (const o of orders) expected.set(o.id, (await t.http('GET', `/api/orders/${o.id}`, { token: admin })).body);

    for (const o of orders) {
      const shard = router.shardForBucket(decodeOrderId(o.id).bucket);
      const counts = await Promise.all(
        orderShards.map((db) =>
          db.query<{ n: number }>("SELECT COUNT(*) AS n FROM orders WHERE id = :id AND status NOT IN ('PENDING','FAILED')", {
            replacements: { id: o.id },
            type: QueryTypes.SELECT,
          }),
        ),
      );
      expect(counts.map(([c]) => Number(c!.n))).toEqual(orderShards.map((_, i) => (i === shard ? 1 : 0)));
    }
    const ids = new Set(orders.map((o) => o.id));
    const views = await eventually(
      async () => {
        const rows = (
          await Promise.all(
            readShards.map((db) =>
              db.query<{ id: string; status: string; total_minor: number; customer_id: string }>(
                "SELECT CAST(order_id AS CHAR) AS id, status, total_minor, customer_id FROM order_views WHERE customer_id LIKE 'inv2-%'",
                { type: QueryTypes.SELECT },
              ),
            ),
          )
        ).flat();
        const settled = rows.length === ids.size && rows.every((r) => expected.get(r.id)?.status === r.status);
        return settled ? rows : undefined;
      },
      20_000,
      'the read side to converge',
    );
    expect(new Set(views.map((v) => v.id))).toEqual(ids);
    for (const v of views) expect(Number(v.total_minor) / 100).toBe(expected.get(v.id)!.total);
  }, 120_000);

  it('3. when one idempotency key is sent 20 times at once and again later, then one order is made and stock is reserved once', async () => {
    await t.http('PUT', '/api/products/inv3', { token: admin, body: { name: 'I3', price: 7, stock: 100 } });
    const token = t.token('inv3-customer');
    const send = () => t.http('POST', '/api/orders', { token, body: body('inv3', 7, 4), headers: { 'idempotency-key': 'inv3-key' } });
    const answers = await Promise.all(Array.from({ length: 20 }, send));
    const ok = answers.filter((a) => a.status === 201);
    // A duplicate that outwaits the first call may be told 409 "in flight"; none may make a second order.
    expect(answers.every((a) => a.status === 201 || (a.status === 409 && a.body.type === '/problems/idempotency-key-in-flight'))).toBe(true);
    expect(new Set(ok.map((a) => a.body.id)).size).toBe(1);
    expect((await send()).body.id).toBe(ok[0]!.body.id);
    expect(await stock('inv3')).toMatchObject({ available: 96, reserved: 4 });
  });

  it('4. when orders are cancelled, paid or left to expire, then every reservation ends sold or released, each exactly once', async () => {
    await t.http('PUT', '/api/products/inv4', { token: admin, body: { name: 'I4', price: 2, stock: 30 } });
    const token = t.token('inv4-customer');
    const orders = await Promise.all(Array.from({ length: 9 }, () => t.http('POST', '/api/orders', { token, body: body('inv4', 2, 2) })));
    const [toCancel, toPay, toExpire] = [orders.slice(0, 3), orders.slice(3, 6), orders.slice(6)];
    await Promise.all(toCancel.map((o) => Promise.all([1, 2].map(() => t.http('POST', `/api/orders/${o.body.id}/cancel`, { token })))));
    await Promise.all(toPay.map((o) => Promise.all([1, 2].map(() => t.http('POST', `/api/orders/${o.body.id}/pay`, { token })))));
    // The sweeper expires the rest after the 8 s payment window.
    await eventually(
      async () => {
        const states = await Promise.all(toExpire.map((o) => t.http('GET', `/api/orders/${o.body.id}`, { token })));
        return states.every((s) => s.body.status === 'EXPIRED') ? true : undefined;
      },
      25_000,
      'expiry',
    );
    await eventually(async () => ((await stock('inv4')).reserved === 0 ? true : undefined), 10_000, 'stock settled');
    expect(await stock('inv4')).toMatchObject({ available: 24, reserved: 0, sold: 6, received: 30 });
    const reservations = await inventoryDb.query<{ status: string; n: number }>(
      "SELECT r.status, COUNT(*) AS n FROM reservations r JOIN reservation_items i ON i.order_id = r.order_id WHERE i.product_id = 'inv4' GROUP BY r.status",
      { type: QueryTypes.SELECT },
    );
    expect(Object.fromEntries(reservations.map((r) => [r.status, Number(r.n)]))).toEqual({ COMMITTED: 3, RELEASED: 6 });
  }, 60_000);

  it("6. when one customer tries to read, list or change another's order, then it is 404 and nothing changes", async () => {
    await t.http('PUT', '/api/products/inv6', { token: admin, body: { name: 'I6', price: 1, stock: 10 } });
    const owner = t.token('inv6-owner');
    const intruder = t.token('inv6-intruder');
    const placed = (await t.http('POST', '/api/orders', { token: owner, body: body('inv6', 1) })).body;
    for (const [method, path] of [
      ['GET', ''],
      ['POST', '/cancel'],
      ['POST', '/pay'],
    ] as const) {
      expect((await t.http(method, `/api/orders/${placed.id}${path}`, { token: intruder })).status).toBe(404);
    }
    const listed = await t.http('GET', '/api/orders?page_size=100', { token: intruder });
    expect(listed.body.orders).toEqual([]);
    expect((await t.http('GET', `/api/orders/${placed.id}`, { token: owner })).body).toMatchObject({ status: 'RESERVED', version: 1 });
    expect(await stock('inv6')).toMatchObject({ available: 9, reserved: 1 });
  });
});
