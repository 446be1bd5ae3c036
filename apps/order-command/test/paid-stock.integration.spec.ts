import { status } from '@grpc/grpc-js';
import { errorDetails, orderV1 } from '@orderflow/proto';
import { TcpProxy } from '@orderflow/stack';
import type { OrderRepository } from '../src/domain/ports';
import { customer, InventoryProcess, orderCommandConfig, RunningOrderCommand, startInventoryProcess, startOrderCommand, placeOrderRequest } from './support';

const S = orderV1.OrderStatus;
const PAYMENT_WINDOW_MS = 1_500;
const RESERVATION_GRACE_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `step` until `done` holds: after a cut, order-command's channel reconnects with a backoff. */
async function eventually(step: () => Promise<unknown>, done: () => Promise<boolean>, limitMs = 20_000) {
  const until = Date.now() + limitMs;
  for (;;) {
    await step().catch(() => undefined);
    if (await done()) return;
    if (Date.now() > until) throw new Error('the condition never held');
    await sleep(200);
  }
}

/**
 * Inventory unreachable (a TCP proxy cut) for longer than a reservation's expiry plus the grace, while
 * inventory's own sweeper runs every 100 ms: a paid order must keep its stock (ADR 0005).
 */
describe('a paid order keeps its stock when inventory is unreachable past the reservation grace', () => {
  let inventory: InventoryProcess;
  let proxy: TcpProxy;
  let oc: RunningOrderCommand;
  /** When set, inventory is cut off just before PAID is stored (after the pay's first inventory call). */
  let cutBeforePaidIsStored = false;

  beforeAll(async () => {
    inventory = await startInventoryProcess({ INVENTORY_SWEEP_INTERVAL_MS: '100' });
    const [host, port] = inventory.address.split(':');
    proxy = new TcpProxy({ host: host!, port: Number(port) });
    await proxy.start();
    const config = orderCommandConfig(`127.0.0.1:${proxy.port}`, {
      PAYMENT_WINDOW_MS: String(PAYMENT_WINDOW_MS),
      RESERVATION_GRACE_MS: String(RESERVATION_GRACE_MS),
      SETTLE_AFTER_MS: '0',
      INVENTORY_DEADLINE_MS: '1000',
    });
    oc = await startOrderCommand(config, {
      decorateRepository: (repository: OrderRepository): OrderRepository =>
        Object.assign(Object.create(repository) as OrderRepository, {
          transition: async (...args: Parameters<OrderRepository['transition']>) => {
            if (cutBeforePaidIsStored && args[1].to === 'PAID') await proxy.cut();
            return repository.transition(...args);
          },
        }),
    });
  });
  afterAll(async () => {
    await oc?.stop();
    await proxy?.stop();
    await inventory?.stop();
  });
  afterEach(async () => {
    cutBeforePaidIsStored = false;
    await proxy.restore();
    // Order-command's channel to inventory is working again before the next test.
    await eventually(
      () => oc.api.getOrder({ orderId: '1', actor: customer('probe') }),
      async () => {
        await inventory.api.upsertProduct({ id: 'probe', name: 'probe', priceMinor: 1, available: 1 });
        const probe = await oc.api.placeOrder(placeOrderRequest('probe', { productId: 'probe', quantity: 1, unitPriceMinor: 1 })).catch(() => undefined);
        if (probe) await oc.api.cancelOrder({ orderId: probe.order!.id, actor: customer('probe') });
        return probe !== undefined;
      },
    );
  });

  const stockOf = async (id: string) => (await inventory.api.getProducts({ productIds: [id] })).products[0]!;
  async function placed(customerId: string, productId: string, quantity: number) {
    await inventory.api.upsertProduct({ id: productId, name: productId, priceMinor: 300, available: 10 });
    const { order } = await oc.api.placeOrder(placeOrderRequest(customerId, { productId, quantity, unitPriceMinor: 300 }));
    return order!;
  }
  /** Past the order's expiry plus the grace, and a few of inventory's sweeps after that. */
  const pastTheGrace = (order: orderV1.Order) => sleep(order.expiresAt!.getTime() + RESERVATION_GRACE_MS + 500 - Date.now());

  it('when inventory goes away after pay was accepted and stays away past the grace, then stock stays held and is sold once inventory returns', async () => {
    const order = await placed('paula', 'paid-cut-p', 3);
    cutBeforePaidIsStored = true;
    const paid = await oc.api.payOrder({ orderId: order.id, actor: customer('paula') });
    expect(paid.order).toMatchObject({ status: S.ORDER_STATUS_PAID });

    await pastTheGrace(order);
    // Inventory's sweeper has run many times: the units of a PAID order are not on sale again.
    expect(await stockOf('paid-cut-p')).toMatchObject({ available: 7, reserved: 3, sold: 0 });

    await proxy.restore();
    await eventually(
      () => oc.app.sweeper.sweep(),
      async () => (await stockOf('paid-cut-p')).sold === 3,
    );
    expect(await stockOf('paid-cut-p')).toMatchObject({ available: 7, reserved: 0, sold: 3 });
    expect((await oc.api.getOrder({ orderId: order.id, actor: customer('paula') })).order).toMatchObject({ status: S.ORDER_STATUS_PAID });
  });

  it('when inventory is unreachable at pay time, then the pay is UNAVAILABLE (reason unavailable), the order stays RESERVED, and it expires with its stock given back', async () => {
    const order = await placed('quinn', 'pay-cut-p', 2);
    await proxy.cut();
    const refused = await oc.api.payOrder({ orderId: order.id, actor: customer('quinn') }).catch((e) => e);
    expect(refused.code).toBe(status.UNAVAILABLE);
    expect(errorDetails.errorReason(refused.metadata)).toBe('unavailable');
    expect((await oc.api.getOrder({ orderId: order.id, actor: customer('quinn') })).order).toMatchObject({ status: S.ORDER_STATUS_RESERVED, version: 1 });

    await pastTheGrace(order);
    await proxy.restore();
    await eventually(
      () => oc.app.sweeper.sweep(),
      async () => (await oc.app.repository.countUnsettled()) === 0,
    );
    expect((await oc.api.getOrder({ orderId: order.id, actor: customer('quinn') })).order).toMatchObject({ status: S.ORDER_STATUS_EXPIRED });
    expect(await stockOf('pay-cut-p')).toMatchObject({ available: 10, reserved: 0, sold: 0 });
  });

  it('when inventory no longer holds the reservation, then the pay is order-expired and the order is not PAID', async () => {
    const order = await placed('rita', 'released-p', 1);
    await inventory.api.release({ orderId: order.id, reason: 'released by hand' });
    const refused = await oc.api.payOrder({ orderId: order.id, actor: customer('rita') }).catch((e) => e);
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetails.errorReason(refused.metadata)).toBe('order-expired');
    expect((await oc.api.getOrder({ orderId: order.id, actor: customer('rita') })).order).toMatchObject({ status: S.ORDER_STATUS_RESERVED });
    expect(await stockOf('released-p')).toMatchObject({ available: 10, reserved: 0, sold: 0 });
  });
});
