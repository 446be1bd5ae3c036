import { inMinutes, RunningInventory, startInventory } from './support';

/**
 * Two replicas selling one hot product take turns with its lock: neither starves the other's requests
 * past their lock wait (the default 2 s). Real MariaDB and Redis, two service instances on one database.
 */
describe('two inventory replicas and one hot product (real MariaDB and Redis)', () => {
  let a: RunningInventory;
  let b: RunningInventory;
  beforeAll(async () => {
    a = await startInventory({ env: { INVENTORY_RESERVE_MODE: 'batched' } });
    b = await startInventory({
      env: { INVENTORY_RESERVE_MODE: 'batched', INVENTORY_MYSQL_DATABASE: a.config.mysql.database, INVENTORY_MIGRATE_ON_START: 'false' },
    });
    await a.api.upsertProduct({ id: 'fair', name: 'Hot', priceMinor: 100, available: 10_000_000 });
  });
  afterAll(async () => {
    await b?.app.lifecycle.stop();
    await a?.stop();
  });

  it('when both replicas reserve the product back to back for 4 s, then no request waits past its lock wait and both replicas sell', async () => {
    const until = Date.now() + 4_000;
    const results = { a: 0, b: 0, refused: [] as string[] };
    let n = 0;
    await Promise.all(
      Array.from({ length: 16 }, async (_, caller) => {
        const [name, replica] = caller % 2 ? (['a', a] as const) : (['b', b] as const);
        while (Date.now() < until) {
          try {
            await replica.api.reserve({ orderId: `fair-${n++}`, items: [{ productId: 'fair', quantity: 1 }], expiresAt: inMinutes(10) });
            results[name]++;
          } catch (error) {
            results.refused.push((error as Error).message);
          }
        }
      }),
    );
    expect(results.refused).toEqual([]);
    const total = results.a + results.b;
    expect(Math.min(results.a, results.b)).toBeGreaterThan(total * 0.2);
  }, 30_000);
});
