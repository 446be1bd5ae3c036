import { credentials } from '@grpc/grpc-js';
import { inventoryV1 } from '@orderflow/proto';
import { freePort, MetricsScrape, scrapeMetrics } from '@orderflow/stack';
import { inMinutes, RunningInventory, startInventory } from './support';

describe('inventory /metrics after real calls (MariaDB, Redis)', () => {
  let inventory: RunningInventory;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    inventory = await startInventory({ env: { INVENTORY_METRICS_PORT: String(port) } });
    url = `http://127.0.0.1:${port}/metrics`;
  });
  afterAll(() => inventory?.stop());

  const reserve = (orderId: string, productId: string, quantity: number) =>
    inventory.api.reserve({ orderId, items: [{ productId, quantity }], expiresAt: inMinutes(10) }).then(
      () => 'ok',
      (error: { code: number }) => error.code,
    );

  it('when Reserve calls end every way, then each outcome, the lock waits and the gRPC codes are counted', async () => {
    await inventory.api.upsertProduct({ id: 'm-lamp', name: 'Lamp', priceMinor: 100, available: 2 });
    await inventory.api.upsertProduct({ id: 'm-desk', name: 'Desk', priceMinor: 100, available: 2 });
    expect(await reserve('m-order-1', 'm-lamp', 1)).toBe('ok'); // reserved (the batched path)
    expect(await reserve('m-order-1', 'm-lamp', 1)).toBe('ok'); // replayed
    expect(await reserve('m-order-2', 'm-lamp', 5)).not.toBe('ok'); // insufficient_stock
    expect(await reserve('m-order-3', 'm-nothing', 1)).not.toBe('ok'); // not_found
    expect(await reserve('', 'm-lamp', 1)).not.toBe('ok'); // invalid
    // Two products: the locked path.
    await inventory.api.reserve({
      orderId: 'm-order-4',
      items: [
        { productId: 'm-lamp', quantity: 1 },
        { productId: 'm-desk', quantity: 1 },
      ],
      expiresAt: inMinutes(10),
    });

    const metrics: MetricsScrape = await scrapeMetrics(url);
    const outcome = (name: string) => metrics.value('orderflow_inventory_reservations_total', { outcome: name });
    expect({
      reserved: outcome('reserved'),
      replayed: outcome('replayed'),
      insufficient_stock: outcome('insufficient_stock'),
      not_found: outcome('not_found'),
      invalid: outcome('invalid'),
      conflict: outcome('conflict'),
      unavailable: outcome('unavailable'),
    }).toEqual({ reserved: 2, replayed: 1, insufficient_stock: 1, not_found: 1, invalid: 1, conflict: 0, unavailable: 0 });
    expect(metrics.value('orderflow_inventory_lock_wait_seconds_count')).toBeGreaterThanOrEqual(3); // 2 upserts, the reserves that got to the lock

    const reserveCalls = (code: string) =>
      metrics.value('orderflow_grpc_server_handled_total', {
        grpc_service: 'orderflow.inventory.v1.InventoryService',
        grpc_method: 'Reserve',
        grpc_code: code,
      });
    expect({
      ok: reserveCalls('OK'),
      short: reserveCalls('FAILED_PRECONDITION'),
      unknown: reserveCalls('NOT_FOUND'),
      bad: reserveCalls('INVALID_ARGUMENT'),
    }).toEqual({
      ok: 3,
      short: 1,
      unknown: 1,
      bad: 1,
    });
    expect(metrics.value('orderflow_grpc_server_handling_seconds_count', { grpc_method: 'Reserve' })).toBe(6);
    expect(metrics.value('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('when Reserves come in a ReserveBatch, then each entry is counted as a Reserve call with its own code, beside the one ReserveBatch call', async () => {
    await inventory.api.upsertProduct({ id: 'm-batch', name: 'Batch', priceMinor: 100, available: 1 });
    const before = await scrapeMetrics(url);
    const entry = (orderId: string) => ({
      request: { orderId, items: [{ productId: 'm-batch', quantity: 1 }], expiresAt: inMinutes(10), expectedPrices: [], placementId: '' },
      context: undefined,
    });
    const client = new inventoryV1.InventoryServiceClient(inventory.address, credentials.createInsecure());
    const response = await new Promise<inventoryV1.ReserveBatchResponse>((resolve, reject) =>
      client.reserveBatch({ entries: [entry('m-batch-1'), entry('m-batch-2')] }, (error, answer) => (error ? reject(error) : resolve(answer))),
    ).finally(() => client.close());
    expect(response.results.map((r) => r.status?.code)).toEqual([0, 9]); // OK, FAILED_PRECONDITION
    const after = await scrapeMetrics(url);
    const calls = (scrape: MetricsScrape, method: string, code: string) =>
      scrape.value('orderflow_grpc_server_handled_total', { grpc_service: 'orderflow.inventory.v1.InventoryService', grpc_method: method, grpc_code: code }) ??
      0;
    expect({
      reserveOk: calls(after, 'Reserve', 'OK') - calls(before, 'Reserve', 'OK'),
      reserveShort: calls(after, 'Reserve', 'FAILED_PRECONDITION') - calls(before, 'Reserve', 'FAILED_PRECONDITION'),
      batch: calls(after, 'ReserveBatch', 'OK') - calls(before, 'ReserveBatch', 'OK'),
    }).toEqual({ reserveOk: 1, reserveShort: 1, batch: 1 });
  });
});
