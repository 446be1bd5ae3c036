import { status } from '@grpc/grpc-js';
import { createSqlPool, rowsOf, SqlPool } from '@orderflow/database';
import { MysqlInventoryStore } from '../src/infrastructure/mysql/inventory.store';
import { RunningInventory, startInventory } from './support';

const inMinutes = (m: number) => new Date(Date.now() + m * 60_000);

describe('retention purge of settled reservations (real MariaDB and Redis)', () => {
  let inv: RunningInventory;
  let pool: SqlPool;
  let store: MysqlInventoryStore;
  const batchSize = 5;

  beforeAll(async () => {
    inv = await startInventory({ env: { INVENTORY_PURGE_INTERVAL_MS: '3600000', INVENTORY_PURGE_BATCH_SIZE: String(batchSize) } });
    pool = createSqlPool(inv.config.mysql, { max: 2 });
    store = new MysqlInventoryStore(pool);
  });
  afterAll(async () => {
    await pool?.end();
    await inv?.stop();
  });

  const sql = async <T>(statement: string, values: unknown[] = []) => rowsOf<T>((await pool.run([{ sql: statement, values }]))[0]);
  const age = (orderIds: string[], days: number) => sql(`UPDATE reservations SET updated_at = NOW(3) - INTERVAL ? DAY WHERE order_id IN (?)`, [days, orderIds]);
  const reservationsOf = async (prefix: string) =>
    (await sql<{ order_id: string; status: string }>(`SELECT order_id, status FROM reservations WHERE order_id LIKE ? ORDER BY order_id`, [`${prefix}%`])).map(
      (r) => `${r.order_id}:${r.status}`,
    );
  const itemsOf = async (prefix: string) =>
    Number((await sql<{ n: string | number }>(`SELECT COUNT(*) AS n FROM reservation_items WHERE order_id LIKE ?`, [`${prefix}%`]))[0]!.n);
  const stock = async (id: string) => {
    const p = (await inv.api.getProducts({ productIds: [id] })).products[0]!;
    return { available: p.available, reserved: p.reserved, sold: p.sold };
  };
  const reserve = (orderId: string, productId: string, quantity = 1) =>
    inv.api.reserve({ orderId, items: [{ productId, quantity }], expiresAt: inMinutes(10) });

  it('when committed and released reservations are older than the retention, then they and their items go; recent ones and any still RESERVED stay, and stock does not move', async () => {
    await inv.api.upsertProduct({ id: 'purge-1', name: 'purge-1', priceMinor: 100, available: 100 });
    for (const id of ['p1-committed-old', 'p1-released-old', 'p1-reserved-old', 'p1-committed-new']) await reserve(id, 'purge-1');
    await inv.api.commit({ orderId: 'p1-committed-old' });
    await inv.api.release({ orderId: 'p1-released-old', reason: 'cancelled' });
    await inv.api.commit({ orderId: 'p1-committed-new' });
    await inv.api.release({ orderId: 'p1-marker-old', reason: 'expired' }); // a release before any reserve: a marker
    await age(['p1-committed-old', 'p1-released-old', 'p1-reserved-old', 'p1-marker-old'], 8);
    await age(['p1-committed-new'], 6);
    const before = await stock('purge-1');

    const result = await inv.app.purger.purge();

    expect(result?.deleted).toBe(3);
    expect(await reservationsOf('p1-')).toEqual(['p1-committed-new:COMMITTED', 'p1-reserved-old:RESERVED']);
    expect(await itemsOf('p1-')).toBe(2);
    expect(await stock('purge-1')).toEqual(before);
    expect(before).toEqual({ available: 97, reserved: 1, sold: 2 });
  });

  it('when an old order is committed or released after its reservation was purged, then nothing moves: a Release answers and leaves a marker, a Commit is NOT_FOUND', async () => {
    await inv.api.upsertProduct({ id: 'purge-2', name: 'purge-2', priceMinor: 100, available: 10 });
    await reserve('p2-paid', 'purge-2', 2);
    await inv.api.commit({ orderId: 'p2-paid' });
    await reserve('p2-cancelled', 'purge-2', 3);
    await inv.api.release({ orderId: 'p2-cancelled', reason: 'cancelled' });
    await age(['p2-paid', 'p2-cancelled'], 8);
    await inv.app.purger.purge();
    expect(await reservationsOf('p2-')).toEqual([]);
    const before = await stock('purge-2');

    // A paid order's late Commit (its settler retrying after a week) finds nothing to sell.
    expect((await inv.api.commit({ orderId: 'p2-paid' }).catch((e) => e)).code).toBe(status.NOT_FOUND);
    await expect(inv.api.release({ orderId: 'p2-cancelled', reason: 'cancelled' })).resolves.toBeDefined();
    // A Reserve arriving for a released order id is still refused by the marker the Release left.
    expect((await reserve('p2-cancelled', 'purge-2').catch((e) => e)).code).toBe(status.FAILED_PRECONDITION);

    expect(await stock('purge-2')).toEqual(before);
    expect(before).toEqual({ available: 8, reserved: 0, sold: 2 });
    expect(await reservationsOf('p2-')).toEqual(['p2-cancelled:RELEASED']);
  });

  it('when a backlog of settled reservations is due, then one DELETE takes at most the batch size per status and repeated batches clear it', async () => {
    await inv.api.upsertProduct({ id: 'purge-3', name: 'purge-3', priceMinor: 100, available: 100 });
    const ids = Array.from({ length: 12 }, (_, i) => `p3-${String(i).padStart(2, '0')}`);
    for (const id of ids) {
      await reserve(id, 'purge-3');
      await inv.api.commit({ orderId: id });
    }
    await age(ids, 10);
    const cutoff = new Date(Date.now() - 7 * 24 * 3600_000);

    expect(await store.purgeSettledReservations(cutoff, batchSize)).toEqual({ deleted: 5, more: true });
    expect((await reservationsOf('p3-')).length).toBe(7);

    const result = await inv.app.purger.purge();
    expect(result).toEqual({ deleted: 7, batches: 2 });
    expect(await reservationsOf('p3-')).toEqual([]);
    expect(await itemsOf('p3-')).toBe(0);
  });

  it('when the purge selects, then MariaDB plans it on an index range, not a table scan', async () => {
    const [plan] = await sql<{ type: string; key: string | null }>(
      `EXPLAIN SELECT order_id FROM reservations WHERE status = 'COMMITTED' AND updated_at < ? ORDER BY updated_at LIMIT 5 FOR UPDATE`,
      [new Date(0)],
    );
    expect(plan).toMatchObject({ type: 'range', key: 'reservations_status_updated' });
  });
});
