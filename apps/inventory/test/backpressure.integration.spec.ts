import { ServiceError, status } from '@grpc/grpc-js';
import { errorDetails } from '@orderflow/proto';
import { expectConserved, inMinutes, RunningInventory, startInventory } from './support';

/** The bounded batch queue (INVENTORY_MAX_QUEUED_RESERVES): a real service on MariaDB and Redis. */
describe('inventory backpressure: a full Reserve queue refuses at once (real MariaDB and Redis)', () => {
  let inv: RunningInventory;
  beforeAll(async () => {
    inv = await startInventory({ env: { INVENTORY_MAX_QUEUED_RESERVES: '8', INVENTORY_BATCH_LANES: '1' } });
  });
  afterAll(() => inv?.stop());

  it('when 300 Reserves for one product arrive together with a queue bound of 8, then the overflow is refused RESOURCE_EXHAUSTED before the queue is served, the rest succeed, and stock is exact', async () => {
    await inv.api.upsertProduct({ id: 'busy', name: 'Busy product', priceMinor: 500, available: 1000 });
    const settled: { i: number; ok: boolean; error?: ServiceError }[] = [];
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        inv.api.reserve({ orderId: `busy-${i}`, items: [{ productId: 'busy', quantity: 1 }], expiresAt: inMinutes(10) }).then(
          () => settled.push({ i, ok: true }),
          (error: ServiceError) => settled.push({ i, ok: false, error }),
        ),
      ),
    );
    const ok = settled.filter((s) => s.ok);
    const refused = settled.filter((s) => !s.ok);
    expect(ok.length).toBeGreaterThan(8); // the batch in flight and a full queue behind it, at least
    expect(refused.length).toBeGreaterThan(0);
    for (const { error } of refused) {
      expect(error!.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(errorDetails.errorReason(error!.metadata)).toBe('overloaded');
      expect(errorDetails.readRetryAfterMs(error!.metadata)).toBeGreaterThan(0);
    }
    // Refused at once: every refusal was answered before the last queued request was served.
    const lastOk = settled.lastIndexOf(ok[ok.length - 1]!);
    const lastRefused = settled.lastIndexOf(refused[refused.length - 1]!);
    expect(lastRefused).toBeLessThan(lastOk);

    const [busy] = (await inv.api.getProducts({ productIds: ['busy'] })).products;
    expect(busy).toMatchObject({ reserved: ok.length, available: 1000 - ok.length, sold: 0, received: 1000 });
    expectConserved([busy!]);

    // A refusal held nothing and recorded nothing: the same order id reserves afresh once the queue is free.
    const retried = refused[0]!.i;
    const again = await inv.api.reserve({ orderId: `busy-${retried}`, items: [{ productId: 'busy', quantity: 2 }], expiresAt: inMinutes(10) });
    expect(again.reservation?.items).toEqual([{ productId: 'busy', quantity: 2 }]);
    const [after] = (await inv.api.getProducts({ productIds: ['busy'] })).products;
    expect(after).toMatchObject({ reserved: ok.length + 2, available: 1000 - ok.length - 2 });
    expectConserved([after!]);
  }, 60_000);
});
