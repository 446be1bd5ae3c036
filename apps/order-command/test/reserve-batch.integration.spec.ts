import { status } from '@grpc/grpc-js';
import { errorDetails } from '@orderflow/proto';
import { orderCommandRun, placeOrderRequest } from './support';

/** The batch-size histogram's count (ReserveBatch calls) and sum (Reserves in them). */
async function reserveBatches(run: ReturnType<typeof orderCommandRun>): Promise<{ calls: number; reserves: number }> {
  const { values } = await run.oc.app.metrics.getSingleMetric('orderflow_inventory_reserve_batch_entries')!.get();
  const named = (suffix: string) => values.find((v) => (v as { metricName?: string }).metricName?.endsWith(suffix))?.value ?? 0;
  return { calls: named('_count'), reserves: named('_sum') };
}

describe('PlaceOrder Reserves gathered into ReserveBatch calls (real MariaDB x2, Redis, NATS and the inventory process)', () => {
  // A linger of a few ms, so that placements arriving over a few reads of the socket still meet.
  const run = orderCommandRun({ INVENTORY_RESERVE_LINGER_MS: '5' });

  const product = (id: string, available: number, priceMinor = 1000) => run.inventory.api.upsertProduct({ id, name: id, priceMinor, available });
  const stockOf = async (id: string) => (await run.inventory.api.getProducts({ productIds: [id] })).products[0]!;

  it('when placements arrive together, then their Reserves travel in shared calls and a refused one fails alone', async () => {
    await product('rb-p', 100, 500);
    await product('rb-short', 1, 500);
    const before = await reserveBatches(run);
    const good = Array.from({ length: 16 }, (_, i) =>
      run.oc.api.placeOrder(placeOrderRequest(`rb-customer-${i}`, { productId: 'rb-p', quantity: 1, unitPriceMinor: 500 })),
    );
    const refused = [
      run.oc.api.placeOrder(placeOrderRequest('rb-unknown', { productId: 'rb-no-such-product', quantity: 1, unitPriceMinor: 500 })),
      run.oc.api.placeOrder(placeOrderRequest('rb-price', { productId: 'rb-p', quantity: 1, unitPriceMinor: 400 })),
      run.oc.api.placeOrder(placeOrderRequest('rb-short', { productId: 'rb-short', quantity: 2, unitPriceMinor: 500 })),
    ];
    const outcomes = await Promise.allSettled([...good, ...refused]);
    expect(outcomes.map((o) => o.status)).toEqual([...good.map(() => 'fulfilled'), 'rejected', 'rejected', 'rejected']);
    const [unknown, price, short] = outcomes.slice(good.length).map((o) => (o as PromiseRejectedResult).reason);
    expect([unknown.code, errorDetails.errorReason(unknown.metadata), errorDetails.readProductIds(unknown.metadata)]).toEqual([
      status.NOT_FOUND,
      'unknown-product',
      ['rb-no-such-product'],
    ]);
    expect([price.code, errorDetails.errorReason(price.metadata)]).toEqual([status.FAILED_PRECONDITION, 'price-changed']);
    expect(errorDetails.readPriceChanged(price.metadata)).toEqual([{ productId: 'rb-p', requestedUnitPriceMinor: 400, currentUnitPriceMinor: 500 }]);
    expect([short.code, errorDetails.errorReason(short.metadata)]).toEqual([status.FAILED_PRECONDITION, 'insufficient-stock']);
    expect(errorDetails.readInsufficientStock(short.metadata)).toEqual([{ productId: 'rb-short', requested: 2, available: 1 }]);
    expect(await stockOf('rb-p')).toMatchObject({ available: 84, reserved: 16 });
    expect(await stockOf('rb-short')).toMatchObject({ available: 1, reserved: 0 });

    // Every Reserve went in a ReserveBatch call, and fewer calls than Reserves were made (batches of more than one).
    const after = await reserveBatches(run);
    const made = { calls: after.calls - before.calls, reserves: after.reserves - before.reserves };
    expect(made.reserves).toBe(outcomes.length);
    expect(made.calls).toBeLessThan(made.reserves);
  });

  it('when a placement comes alone, then its Reserve goes at once in a call of its own', async () => {
    await product('rb-lone', 5, 500);
    const before = await reserveBatches(run);
    await run.oc.api.placeOrder(placeOrderRequest('rb-lone', { productId: 'rb-lone', quantity: 1, unitPriceMinor: 500 }));
    const after = await reserveBatches(run);
    expect({ calls: after.calls - before.calls, reserves: after.reserves - before.reserves }).toEqual({ calls: 1, reserves: 1 });
  });
});
