import { status } from '@grpc/grpc-js';
import { connectNats } from '@orderflow/messaging';
import { errorDetails, orderV1 } from '@orderflow/proto';
import { customer, orderCommandRun, placeOrderRequest } from './support';

const S = orderV1.OrderStatus;

describe('order state changes (real MariaDB x2, NATS and the inventory process)', () => {
  const run = orderCommandRun({ PAYMENT_WINDOW_MS: '1500', RESERVATION_GRACE_MS: '60000' });

  const stockOf = async (id: string) => (await run.inventory.api.getProducts({ productIds: [id] })).products[0]!;
  async function placed(customerId: string, productId: string, quantity = 2) {
    await run.inventory.api.upsertProduct({ id: productId, name: productId, priceMinor: 300, available: 10 });
    const { order } = await run.oc.api.placeOrder(placeOrderRequest(customerId, { productId, quantity, unitPriceMinor: 300 }));
    return order!;
  }

  it('when an order is cancelled twice, then it is CANCELLED once, version 2, and its stock is released exactly once', async () => {
    const order = await placed('ivy', 'cancel-p');
    const first = await run.oc.api.cancelOrder({ orderId: order.id, actor: customer('ivy') });
    const second = await run.oc.api.cancelOrder({ orderId: order.id, actor: customer('ivy') });
    expect(first.order).toMatchObject({ status: S.ORDER_STATUS_CANCELLED, version: 2 });
    expect(second.order).toEqual(first.order);
    expect(await stockOf('cancel-p')).toMatchObject({ available: 10, reserved: 0, sold: 0 });
  });

  it('when an order is paid and shipped, then stock is sold once and each step bumps the version', async () => {
    const order = await placed('jack', 'pay-p', 3);
    const paid = await run.oc.api.payOrder({ orderId: order.id, actor: customer('jack') });
    expect(paid.order).toMatchObject({ status: S.ORDER_STATUS_PAID, version: 2 });
    expect((await run.oc.api.payOrder({ orderId: order.id, actor: customer('jack') })).order).toEqual(paid.order);
    expect(await stockOf('pay-p')).toMatchObject({ available: 7, reserved: 0, sold: 3 });
    const shipped = await run.oc.api.shipOrder({ orderId: order.id, actor: customer('admin-1', true) });
    expect(shipped.order).toMatchObject({ status: S.ORDER_STATUS_SHIPPED, version: 3 });
  });

  it('when a transition is not allowed, then it is FAILED_PRECONDITION invalid-transition and changes nothing', async () => {
    const order = await placed('kate', 'wrong-p');
    const ship = await run.oc.api.shipOrder({ orderId: order.id, actor: customer('admin-1', true) }).catch((e) => e);
    expect(ship.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetails.errorReason(ship.metadata)).toBe('invalid-transition');
    await run.oc.api.cancelOrder({ orderId: order.id, actor: customer('kate') });
    const pay = await run.oc.api.payOrder({ orderId: order.id, actor: customer('kate') }).catch((e) => e);
    expect(pay.code).toBe(status.FAILED_PRECONDITION);
    const after = await run.oc.api.getOrder({ orderId: order.id, actor: customer('kate') });
    expect(after.order).toMatchObject({ status: S.ORDER_STATUS_CANCELLED, version: 2 });
    expect(await stockOf('wrong-p')).toMatchObject({ available: 10, reserved: 0, sold: 0 });
  });

  it('when another customer reads or changes an order, then it is NOT_FOUND; a customer cannot ship', async () => {
    const order = await placed('liam', 'owner-p');
    for (const call of [
      () => run.oc.api.getOrder({ orderId: order.id, actor: customer('mallory') }),
      () => run.oc.api.cancelOrder({ orderId: order.id, actor: customer('mallory') }),
      () => run.oc.api.payOrder({ orderId: order.id, actor: customer('mallory') }),
    ]) {
      expect((await call().catch((e) => e)).code).toBe(status.NOT_FOUND);
    }
    expect((await run.oc.api.shipOrder({ orderId: order.id, actor: customer('liam') }).catch((e) => e)).code).toBe(status.PERMISSION_DENIED);
    expect((await run.oc.api.getOrder({ orderId: 'not-an-id', actor: customer('liam') }).catch((e) => e)).code).toBe(status.INVALID_ARGUMENT);
    expect((await run.oc.api.getOrder({ orderId: order.id, actor: customer('admin-1', true) })).order?.id).toBe(order.id);
    expect(await stockOf('owner-p')).toMatchObject({ reserved: 2 });
  });

  it('when cancel and pay race on one order, then exactly one wins and stock is settled once', async () => {
    for (let i = 0; i < 5; i++) {
      const order = await placed(`race-${i}`, `race-p-${i}`);
      const [cancel, pay] = await Promise.allSettled([
        run.oc.api.cancelOrder({ orderId: order.id, actor: customer(`race-${i}`) }),
        run.oc.api.payOrder({ orderId: order.id, actor: customer(`race-${i}`) }),
      ]);
      expect([cancel.status, pay.status].filter((s) => s === 'fulfilled')).toHaveLength(1);
      const final = (await run.oc.api.getOrder({ orderId: order.id, actor: customer(`race-${i}`) })).order!;
      const stock = await stockOf(`race-p-${i}`);
      if (final.status === S.ORDER_STATUS_PAID) expect(stock).toMatchObject({ available: 8, reserved: 0, sold: 2 });
      else expect(stock).toMatchObject({ available: 10, reserved: 0, sold: 0 });
    }
  });

  it('when the payment window passes, then the sweeper expires the order once, releases its stock once, and pay is refused', async () => {
    const order = await placed('nina', 'expire-p', 4);
    const kept = await placed('omar', 'expire-kept', 1);
    await run.oc.api.payOrder({ orderId: kept.id, actor: customer('omar') });
    await new Promise((r) => setTimeout(r, 1600));
    const sweeps = await Promise.all([run.oc.app.sweeper.sweep(), run.oc.app.sweeper.sweep()]);
    expect(sweeps[0].expired + sweeps[1].expired).toBeGreaterThanOrEqual(1);
    const expired = (await run.oc.api.getOrder({ orderId: order.id, actor: customer('nina') })).order!;
    expect(expired).toMatchObject({ status: S.ORDER_STATUS_EXPIRED, version: 2 });
    expect(await stockOf('expire-p')).toMatchObject({ available: 10, reserved: 0, sold: 0 });
    expect((await run.oc.api.payOrder({ orderId: order.id, actor: customer('nina') }).catch((e) => e)).code).toBe(status.FAILED_PRECONDITION);
    expect((await run.oc.api.getOrder({ orderId: kept.id, actor: customer('omar') })).order?.status).toBe(S.ORDER_STATUS_PAID);
    expect((await run.oc.app.sweeper.sweep()).expired).toBe(0);
  });

  it('when orders change, then the stream holds each event once, in version order per order, with the order after the change', async () => {
    const order = await placed('pia', 'events-p');
    await run.oc.api.payOrder({ orderId: order.id, actor: customer('pia') });
    await run.oc.api.shipOrder({ orderId: order.id, actor: customer('admin-1', true) });
    const nc = await connectNats({ servers: run.oc.config.nats.servers, name: 'test-reader' });
    try {
      const jsm = await nc.jetstreamManager();
      const deadline = Date.now() + 10_000;
      let events: orderV1.OrderEvent[] = [];
      while (Date.now() < deadline) {
        const info = await jsm.streams.info(run.oc.config.nats.stream);
        events = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const message = await jsm.streams.getMessage(run.oc.config.nats.stream, { seq });
          const event = orderV1.OrderEvent.decode(message.data);
          if (event.orderId === order.id) events.push(event);
        }
        if (events.length >= 3) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(
        events.map((e) => [
          e.version,
          e.order?.status,
          Object.keys(e).find((k) => ['placed', 'paid', 'shipped'].includes(k) && e[k as keyof orderV1.OrderEvent]),
        ]),
      ).toEqual([
        [1, S.ORDER_STATUS_RESERVED, 'placed'],
        [2, S.ORDER_STATUS_PAID, 'paid'],
        [3, S.ORDER_STATUS_SHIPPED, 'shipped'],
      ]);
      expect(new Set(events.map((e) => e.eventId)).size).toBe(3);
      expect(events.every((e) => e.customerId === 'pia' && e.order?.totalMinor === 600)).toBe(true);
    } finally {
      await nc.close();
    }
  });
});
