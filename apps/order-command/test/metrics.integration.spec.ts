import { freePort, MetricsScrape, scrapeMetrics } from '@orderflow/stack';
import { customer, InventoryProcess, orderCommandConfig, RunningOrderCommand, startInventoryProcess, startOrderCommand, placeOrderRequest } from './support';

describe('order-command /metrics after real calls (MariaDB x2, NATS and the inventory process)', () => {
  let inventory: InventoryProcess;
  let oc: RunningOrderCommand;
  let url: string;
  let inventoryStopped = false;

  beforeAll(async () => {
    inventory = await startInventoryProcess();
    const port = await freePort();
    url = `http://127.0.0.1:${port}/metrics`;
    // The relay is started by the test, so the backlog can be seen before it drains.
    oc = await startOrderCommand(orderCommandConfig(inventory.address, { ORDER_COMMAND_METRICS_PORT: String(port) }), { relay: false });
  });
  afterAll(async () => {
    await oc?.app.relay.stop();
    await oc?.stop();
    if (!inventoryStopped) await inventory?.stop();
  });

  const until = async (what: string, check: (m: MetricsScrape) => boolean): Promise<MetricsScrape> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const metrics = await scrapeMetrics(url);
      if (check(metrics)) return metrics;
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${what}:\n${metrics.text
            .split('\n')
            .filter((l) => l.startsWith('orderflow_'))
            .join('\n')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('when an order is placed, relayed, then cancelled while inventory is down, then backlog, published events and owed settlements follow', async () => {
    await inventory.api.upsertProduct({ id: 'metrics-p', name: 'P', priceMinor: 500, available: 10 });
    const { order } = await oc.api.placeOrder(placeOrderRequest('mia', { productId: 'metrics-p', quantity: 1, unitPriceMinor: 500 }));

    let metrics = await scrapeMetrics(url);
    expect(metrics.value('orderflow_outbox_backlog')).toBe(1);
    expect(metrics.value('orderflow_outbox_published_total')).toBe(0);
    expect(metrics.value('orderflow_order_settlements_pending')).toBe(0);
    expect(metrics.value('orderflow_grpc_server_handled_total', { grpc_method: 'PlaceOrder', grpc_code: 'OK' })).toBe(1);
    // The live shard map (ADR 0009): a fresh shard set starts at version 1, and nothing was fenced.
    expect(metrics.value('orderflow_shard_map_version')).toBe(1);
    expect(metrics.value('orderflow_shard_fenced_writes_total')).toBe(0);
    expect(metrics.value('orderflow_shard_fence_wait_seconds_count')).toBe(0);

    await oc.app.relay.start();
    await until('the relay to publish the event', (m) => m.value('orderflow_outbox_backlog') === 0 && m.value('orderflow_outbox_published_total') === 1);

    // Inventory down: the cancel is stored (and its event), the Release stays owed for the settler.
    await inventory.stop();
    inventoryStopped = true;
    await oc.api.cancelOrder({ orderId: order!.id, actor: customer('mia') });
    // The counter moves on the JetStream ack, the backlog when the mark commits a moment later: wait for both.
    metrics = await until(
      'the cancel event to be published and marked sent',
      (m) => m.value('orderflow_outbox_published_total') === 2 && m.value('orderflow_outbox_backlog') === 0,
    );
    expect(metrics.value('orderflow_order_settlements_pending')).toBe(1);
    expect(metrics.value('orderflow_grpc_server_handled_total', { grpc_method: 'CancelOrder', grpc_code: 'OK' })).toBe(1);
  });
});
