import { ServiceError, status } from '@grpc/grpc-js';
import { createSqlPool, SqlPool } from '@orderflow/database';
import { errorDetails, inventoryV1 } from '@orderflow/proto';
import { expectConserved, failure, inMinutes, RunningInventory, startInventory, tally, pausingStockWrites } from './support';

interface AdjustmentRow {
  product_id: string;
  delta: number | string;
  reason: string;
  actor_id: string;
  available_after: number | string;
  version_after: number | string;
}

describe('inventory AdjustStock (real MariaDB and Redis)', () => {
  let a: RunningInventory;
  let b: RunningInventory;
  let db: SqlPool;

  beforeAll(async () => {
    a = await startInventory();
    b = await startInventory({ env: { INVENTORY_MYSQL_DATABASE: a.config.mysql.database, INVENTORY_MIGRATE_ON_START: 'false' } });
    db = createSqlPool(a.config.mysql, { max: 2 });
  });

  afterAll(async () => {
    await db?.end();
    await b?.app.lifecycle.stop();
    await a?.stop();
  });

  const adjustments = (productId: string) =>
    db.select<AdjustmentRow>(
      'SELECT product_id, delta, reason, actor_id, available_after, version_after FROM stock_adjustments WHERE product_id = ? ORDER BY id',
      [productId],
    );
  const productOf = async (id: string) => (await a.api.getProducts({ productIds: [id] })).products[0] as inventoryV1.Product;

  it('when an admin adjusts stock, then available and received move by the delta, and it is stored with its trimmed reason, actor and result', async () => {
    await a.api.upsertProduct({ id: 'adj-lamp', name: 'Lamp', priceMinor: 3_990, available: 10 });
    const up = await a.api.adjustStock({ productId: 'adj-lamp', delta: 15, reason: '  Lieferung eingetroffen – 入荷 🚚 ', actorId: 'ops@example.com' });
    const down = await b.api.adjustStock({ productId: 'adj-lamp', delta: -4, reason: 'damaged', actorId: 'ops-2' });

    expect(up.product).toMatchObject({ available: 25, received: 25, reserved: 0, sold: 0 });
    expect(down.product).toMatchObject({ available: 21, received: 21 });
    expect(down.adjustmentId).toBeGreaterThan(up.adjustmentId);
    expect(await productOf('adj-lamp')).toEqual(down.product);
    const rows = await adjustments('adj-lamp');
    expect(rows.map((r) => ({ ...r, delta: Number(r.delta), available_after: Number(r.available_after), version_after: Number(r.version_after) }))).toEqual([
      {
        product_id: 'adj-lamp',
        delta: 15,
        reason: 'Lieferung eingetroffen – 入荷 🚚',
        actor_id: 'ops@example.com',
        available_after: 25,
        version_after: up.product!.version,
      },
      { product_id: 'adj-lamp', delta: -4, reason: 'damaged', actor_id: 'ops-2', available_after: 21, version_after: down.product!.version },
    ]);
  });

  it('when a negative delta would take available below 0 (reserved stock does not count), then it is FAILED_PRECONDITION and nothing changes', async () => {
    await a.api.upsertProduct({ id: 'adj-held', name: 'Held', priceMinor: 100, available: 5 });
    await a.api.reserve({ orderId: 'adj-held-order', items: [{ productId: 'adj-held', quantity: 3 }], expiresAt: inMinutes(10) });
    const before = await productOf('adj-held');

    const error = await failure(a.api.adjustStock({ productId: 'adj-held', delta: -3, reason: 'recount', actorId: 'ops' }));
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetails.errorReason(error.metadata)).toBe('stock-adjustment-refused');
    expect(errorDetails.readInsufficientStock(error.metadata)).toEqual([{ productId: 'adj-held', requested: 3, available: 2 }]);
    expect(await productOf('adj-held')).toEqual(before);
    expect(await adjustments('adj-held')).toEqual([]);

    // Exactly down to zero is allowed.
    expect((await a.api.adjustStock({ productId: 'adj-held', delta: -2, reason: 'recount', actorId: 'ops' })).product).toMatchObject({
      available: 0,
      reserved: 3,
      received: 3,
    });
  });

  it('when the product is unknown or the input is bad, then it is NOT_FOUND or INVALID_ARGUMENT naming each field, and nothing is stored', async () => {
    const missing = await failure(a.api.adjustStock({ productId: 'adj-nothing', delta: 1, reason: 'x', actorId: 'ops' }));
    expect(missing.code).toBe(status.NOT_FOUND);
    const bad = await failure(a.api.adjustStock({ productId: 'adj-lamp', delta: 0, reason: '   ', actorId: '' }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails.readFieldViolations(bad.metadata).map((v) => v.field)).toEqual(['delta', 'reason', 'actor_id']);
    expect(await adjustments('adj-nothing')).toEqual([]);
  });

  it('when adjustments race Reserve, Commit and Release from two instances, then available never goes negative and every unit is accounted for', async () => {
    const ids = ['adj-race-0', 'adj-race-1', 'adj-race-2'];
    for (const id of ids) await a.api.upsertProduct({ id, name: id, priceMinor: 100, available: 30 });
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    /** Runs the adjustments, half on each instance; the deltas that were applied, per product. */
    const adjustAll = async (deltas: { productId: string; delta: number }[], label: string) => {
      const results = await Promise.allSettled(deltas.map((d, i) => (i % 2 ? a : b).api.adjustStock({ ...d, reason: `${label} ${i}`, actorId: 'ops' })));
      const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as ServiceError).code] : []));
      return { applied: deltas.filter((_, i) => results[i]!.status === 'fulfilled'), codes };
    };
    const deltas = Array.from({ length: 90 }, (_, i) => ({ productId: ids[i % 3] as string, delta: rand(2) === 0 ? -(1 + rand(8)) : 1 + rand(4) }));
    const orders = Array.from({ length: 240 }, (_, i) => ({
      orderId: `adj-race-order-${i}`,
      // Mostly single-product (the batched path), some multi-product (the locked path).
      items:
        i % 5 === 0
          ? [
              { productId: ids[0] as string, quantity: 1 },
              { productId: ids[1 + (i % 2)] as string, quantity: 1 + rand(2) },
            ]
          : [{ productId: ids[i % 3] as string, quantity: 1 + rand(3) }],
      expiresAt: inMinutes(10),
    }));
    const [first, reserved] = await Promise.all([adjustAll(deltas, 'race'), tally(orders.map((order, i) => (i % 2 ? b : a).api.reserve(order)))]);
    // Some of each went through and some were refused, or the race proves nothing.
    expect(first.applied.length).toBeGreaterThan(0);
    expect(first.codes.length).toBeGreaterThan(0);
    expect(reserved.ok.length).toBeGreaterThan(0);
    expect(reserved.codes[status.FAILED_PRECONDITION] ?? 0).toBeGreaterThan(0);
    expect(new Set([...first.codes, ...Object.keys(reserved.codes).map(Number)])).toEqual(new Set([status.FAILED_PRECONDITION]));

    // Then commits and releases race more adjustments.
    const reservations = reserved.ok.map((r) => r.reservation!);
    const [settled, second] = await Promise.all([
      tally(reservations.map((r, i) => (i % 3 === 0 ? a.api.release({ orderId: r.orderId, reason: 'cancelled' }) : b.api.commit({ orderId: r.orderId })))),
      adjustAll(
        Array.from({ length: 30 }, (_, i) => ({ productId: ids[i % 3] as string, delta: i % 2 ? -1 : 2 })),
        'later',
      ),
    ]);
    expect(settled.codes).toEqual({});

    const products = (await a.api.getProducts({ productIds: ids })).products;
    expectConserved(products);
    const applied = [...first.applied, ...second.applied];
    for (const p of products) {
      const mine = applied.filter((d) => d.productId === p.id).map((d) => d.delta);
      const rows = await adjustments(p.id);
      // Every applied adjustment, and nothing else, is stored; with the initial stock they make received.
      expect(rows.map((r) => Number(r.delta)).sort()).toEqual([...mine].sort());
      expect(p.received).toBe(30 + mine.reduce((sum, d) => sum + d, 0));
      expect(p.available).toBeGreaterThanOrEqual(0);
      // The held stock is exactly what the answered reservations hold: the committed ones sold, the released ones back.
      const sold = reservations
        .flatMap((r, i) => (i % 3 === 0 ? [] : r.items))
        .filter((item) => item.productId === p.id)
        .reduce((sum, item) => sum + item.quantity, 0);
      expect({ reserved: p.reserved, sold: p.sold }).toEqual({ reserved: 0, sold });
    }
  });

  it('when the lock expires while an adjustment is paused between its read and its write, then the version check still loses no update', async () => {
    // A 50 ms lock and a 250 ms pause: the other instance gets in with the same version, as in the Reserve test.
    const { hooks, seen } = pausingStockWrites();
    const env = { INVENTORY_LOCK_TTL_MS: '50', INVENTORY_CONFLICT_RETRIES: '20' };
    const x = await startInventory({ env, hooks });
    const y = await startInventory({ env: { ...env, INVENTORY_MYSQL_DATABASE: x.config.mysql.database, INVENTORY_MIGRATE_ON_START: 'false' }, hooks });
    try {
      await x.api.upsertProduct({ id: 'adj-paused', name: 'Paused', priceMinor: 100, available: 10 });
      const results = await Promise.allSettled([
        ...Array.from({ length: 8 }, (_, i) => (i % 2 ? x : y).api.adjustStock({ productId: 'adj-paused', delta: 3, reason: 'restock', actorId: 'ops' })),
        ...Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? y : x).api.reserve({ orderId: `adj-paused-${i}`, items: [{ productId: 'adj-paused', quantity: 2 }], expiresAt: inMinutes(10) }),
        ),
      ]);
      expect(seen.maxInside).toBeGreaterThan(1); // the lock really did expire under a paused holder
      const adjustedOk = results.slice(0, 8).filter((r) => r.status === 'fulfilled').length;
      const reservedOk = results.slice(8).filter((r) => r.status === 'fulfilled').length;
      for (const r of results) if (r.status === 'rejected') expect([status.FAILED_PRECONDITION, status.ABORTED]).toContain((r.reason as ServiceError).code);
      const [p] = (await x.api.getProducts({ productIds: ['adj-paused'] })).products as inventoryV1.Product[];
      expectConserved([p!]);
      expect(p).toMatchObject({ received: 10 + 3 * adjustedOk, reserved: 2 * reservedOk, available: 10 + 3 * adjustedOk - 2 * reservedOk });
    } finally {
      await y.app.lifecycle.stop();
      await x.stop();
    }
  });
});
