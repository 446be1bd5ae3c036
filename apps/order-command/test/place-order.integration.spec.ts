import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { createSqlPool } from '@orderflow/database';
import { connectNats } from '@orderflow/messaging';
import { errorDetails, orderV1 } from '@orderflow/proto';
import { decodeOrderId, shardMapFromConfig, ShardRouter } from '@orderflow/sharding';
import { TcpProxy, testStack } from '@orderflow/stack';
import type { Order } from '../src/domain/model';
import type { OrderRepository } from '../src/domain/ports';
import { ShardedOrderIds } from '../src/infrastructure/order-ids';
import { orderCommandConfig, orderCommandRun, startInventoryProcess, startOrderCommand, placeOrderRequest } from './support';

describe('PlaceOrder over gRPC (real MariaDB x2, Redis, NATS and the inventory process)', () => {
  const run = orderCommandRun();

  const product = (id: string, available: number, priceMinor = 1000) => run.inventory.api.upsertProduct({ id, name: id, priceMinor, available });
  const stockOf = async (id: string) => (await run.inventory.api.getProducts({ productIds: [id] })).products[0]!;
  const place = (customerId: string, items: { productId: string; quantity: number; unitPriceMinor: number }[], idempotencyKey = '') =>
    run.oc.api.placeOrder({ customerId, idempotencyKey, items, address: '1 Main St', paymentMethod: 'card' });

  it('when many customers order, then each order lands on the shard its id names, on both MariaDB servers, and nowhere else', async () => {
    await product('shard-p', 10_000, 500);
    const customers = Array.from({ length: 40 }, (_, i) => `shard-customer-${i}`);
    const placed = await Promise.all(customers.map((c) => place(c, [{ productId: 'shard-p', quantity: 1, unitPriceMinor: 500 }])));
    const router = new ShardRouter(shardMapFromConfig(undefined, run.oc.config.shards.length));
    const dbs = run.oc.config.shards.map((s) => createSqlPool(s, { max: 1 }));
    try {
      const serversUsed = new Set<number>();
      for (const [i, { order }] of placed.entries()) {
        const shard = router.shardForBucket(decodeOrderId(order!.id).bucket);
        expect(shard).toBe(router.shardForCustomer(customers[i]!));
        const found = await Promise.all(dbs.map((db) => db.select<{ n: string }>('SELECT COUNT(*) AS n FROM orders WHERE id = ?', [order!.id])));
        expect(found.map(([row]) => Number(row!.n))).toEqual(dbs.map((_, s) => (s === shard ? 1 : 0)));
        serversUsed.add(run.oc.config.shards[shard]!.port);
      }
      // The four shards live on the first two servers (the third is for bucket moves).
      const [first, second] = testStack.info().mysql;
      expect(serversUsed).toEqual(new Set([first!.port, second!.port]));
    } finally {
      await Promise.all(dbs.map((db) => db.end()));
    }
    expect((await stockOf('shard-p')).reserved).toBe(40);
  });

  it('when an order is placed, then it is RESERVED with its total, version 1, an expiry, and stock is held', async () => {
    await product('place-a', 10, 250);
    await product('place-b', 10, 1999);
    const { order, replayed } = await place('alice', [
      { productId: 'place-a', quantity: 2, unitPriceMinor: 250 },
      { productId: 'place-b', quantity: 1, unitPriceMinor: 1999 },
    ]);
    expect(replayed).toBe(false);
    expect(order).toMatchObject({ customerId: 'alice', status: orderV1.OrderStatus.ORDER_STATUS_RESERVED, totalMinor: 2499, version: 1 });
    expect(order!.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    expect(await stockOf('place-a')).toMatchObject({ available: 8, reserved: 2 });
    const read = await run.oc.api.getOrder({ orderId: order!.id, actor: { customerId: 'alice', admin: false } });
    expect(read.order).toEqual(order);
  });

  it('when the API and the relay run in separate processes, then a placement wakes the relay over NATS at once', async () => {
    // The relay polls only every minute: the event can reach the stream in time only by the wake-up.
    const base = orderCommandConfig(run.inventory.address, { OUTBOX_POLL_INTERVAL_MS: '60000' });
    const relayOnly = await startOrderCommand({ ...base, roles: ['relay'] });
    const apiOnly = await startOrderCommand({ ...base, roles: ['api', 'sweeper'] });
    const nc = await connectNats({ servers: base.nats.servers, name: 'wake-test' });
    try {
      await product('wake-p', 5);
      const started = Date.now();
      const placed = await apiOnly.api.placeOrder(placeOrderRequest('wendy', { productId: 'wake-p', quantity: 1, unitPriceMinor: 1000 }));
      expect(placed.order?.status).toBe(orderV1.OrderStatus.ORDER_STATUS_RESERVED);
      const jsm = await nc.jetstreamManager();
      while ((await jsm.streams.info(base.nats.stream)).state.messages < 1) {
        if (Date.now() - started > 10_000) throw new Error('the event did not reach the stream: the relay was not woken');
        await new Promise((r) => setTimeout(r, 20));
      }
      // The relay process serves health only, not the order API.
      expect(
        (await relayOnly.api.placeOrder({ customerId: 'wendy', idempotencyKey: '', items: [], address: 'A', paymentMethod: 'card' }).catch((e) => e)).code,
      ).toBe(status.UNIMPLEMENTED);
    } finally {
      await nc.close();
      await apiOnly.stop({ keepData: true });
      await relayOnly.stop();
    }
  });

  it('when many placed orders of one shard are written at once (grouped commits), then each is stored once and a taken id among them fails alone', async () => {
    const ids = new ShardedOrderIds();
    const now = new Date();
    const event = (customerId: string, id = ids.next(customerId)) => {
      const order: Order = {
        id,
        customerId,
        status: 'RESERVED',
        items: [{ productId: 'gc-p', quantity: 1, unitPriceMinor: 100 }],
        totalMinor: 100,
        address: 'A',
        paymentMethod: 'card',
        version: 1,
        createdAt: now,
        updatedAt: now,
        expiresAt: new Date(now.getTime() + 60_000),
      };
      return {
        eventId: randomUUID(),
        kind: 'placed' as const,
        order,
        occurredAt: now,
        changedBy: { kind: 'CUSTOMER' as const, id: customerId },
        reason: 'placed',
      };
    };
    // One customer: every write goes to one shard, so they queue behind each other and share transactions.
    const taken = event('gc-customer');
    expect(await run.oc.app.repository.insertPlaced(taken)).toBe(true);
    const burst = Array.from({ length: 40 }, () => event('gc-customer'));
    burst.splice(20, 0, event('gc-customer', taken.order.id)); // the same id again, in the middle
    const stored = await Promise.all(burst.map((e) => run.oc.app.repository.insertPlaced(e)));
    expect(stored.filter((s) => !s)).toHaveLength(1);
    expect(stored[20]).toBe(false);
    for (const e of [taken, ...burst.filter((_, i) => i !== 20)]) {
      expect(await run.oc.app.repository.get(e.order.id)).toMatchObject({
        id: e.order.id,
        status: 'RESERVED',
        version: 1,
        items: [{ productId: 'gc-p', quantity: 1, unitPriceMinor: 100 }],
      });
    }
  });

  it('when a unit price differs from the catalog, then it is FAILED_PRECONDITION price-changed with the current price, and nothing is held', async () => {
    await product('price-p', 10, 1500);
    const error = await place('bob', [{ productId: 'price-p', quantity: 1, unitPriceMinor: 1400 }]).catch((e) => e);
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetails.errorReason(error.metadata)).toBe('price-changed');
    expect(errorDetails.readPriceChanged(error.metadata)).toEqual([{ productId: 'price-p', requestedUnitPriceMinor: 1400, currentUnitPriceMinor: 1500 }]);
    expect(await stockOf('price-p')).toMatchObject({ available: 10, reserved: 0 });
  });

  it('when a product is unknown, then it is NOT_FOUND unknown-product naming it', async () => {
    const error = await place('bob', [{ productId: 'no-such-product', quantity: 1, unitPriceMinor: 100 }]).catch((e) => e);
    expect(error.code).toBe(status.NOT_FOUND);
    expect(errorDetails.errorReason(error.metadata)).toBe('unknown-product');
    expect(error.details).toContain('no-such-product');
    expect(errorDetails.readProductIds(error.metadata)).toEqual(['no-such-product']);
  });

  it('when one product id is a prefix of an unknown one (mug, mug2), then only the unknown one is named', async () => {
    await product('mug', 10, 100);
    const error = await place('bob', [
      { productId: 'mug', quantity: 1, unitPriceMinor: 100 },
      { productId: 'mug2', quantity: 1, unitPriceMinor: 100 },
    ]).catch((e) => e);
    expect(error.code).toBe(status.NOT_FOUND);
    expect(errorDetails.readProductIds(error.metadata)).toEqual(['mug2']);
    expect(await stockOf('mug')).toMatchObject({ available: 10, reserved: 0 });
  });

  it('when the payment method and address are free text in any script, then they are stored trimmed and returned as sent', async () => {
    await product('free-text-p', 10, 9950);
    const { order } = await run.oc.api.placeOrder({
      customerId: 'freetext',
      idempotencyKey: '',
      items: [{ productId: 'free-text-p', quantity: 2, unitPriceMinor: 9950 }],
      address: ' 配送地址 ',
      paymentMethod: '信用卡 💳',
    });
    expect(order).toMatchObject({ address: '配送地址', paymentMethod: '信用卡 💳' });
    expect((await run.oc.api.getOrder({ orderId: order!.id, actor: { customerId: 'freetext', admin: false } })).order).toMatchObject({
      address: '配送地址',
      paymentMethod: '信用卡 💳',
    });
    // 64 characters (emoji are two UTF-16 units each, one character each, as MySQL counts them) fit; 65 do not.
    const longest = await place('freetext', [{ productId: 'free-text-p', quantity: 1, unitPriceMinor: 9950 }]).then(() =>
      run.oc.api.placeOrder(placeOrderRequest('freetext', { productId: 'free-text-p', quantity: 1, unitPriceMinor: 9950 }, { paymentMethod: '💳'.repeat(64) })),
    );
    expect(longest.order!.paymentMethod).toBe('💳'.repeat(64));
    const error = await run.oc.api
      .placeOrder(placeOrderRequest('freetext', { productId: 'free-text-p', quantity: 1, unitPriceMinor: 9950 }, { paymentMethod: '💳'.repeat(65) }))
      .catch((e) => e);
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails.readFieldViolations(error.metadata).map((v) => v.field)).toEqual(['payment_method']);
  });

  it('when stock is short, then it is FAILED_PRECONDITION insufficient-stock naming the product, and no order exists', async () => {
    await product('short-p', 1, 100);
    const error = await place('carol', [{ productId: 'short-p', quantity: 2, unitPriceMinor: 100 }]).catch((e) => e);
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetails.errorReason(error.metadata)).toBe('insufficient-stock');
    expect(errorDetails.readInsufficientStock(error.metadata)).toEqual([{ productId: 'short-p', requested: 2, available: 1 }]);
    expect(await stockOf('short-p')).toMatchObject({ available: 1, reserved: 0 });
  });

  it('when the body is malformed, then it is INVALID_ARGUMENT naming every bad field', async () => {
    const error = await run.oc.api
      .placeOrder({ customerId: 'dave', idempotencyKey: '', items: [{ productId: 'x y', quantity: 0, unitPriceMinor: -1 }], address: '', paymentMethod: '   ' })
      .catch((e) => e);
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails.readFieldViolations(error.metadata).map((v) => v.field)).toEqual([
      'items[0].product_id',
      'items[0].quantity',
      'items[0].unit_price',
      'address',
      'payment_method',
    ]);
  });

  it('when concurrent calls share one idempotency key, then one order is made and stock is reserved once', async () => {
    await product('idem-p', 100, 700);
    const items = [{ productId: 'idem-p', quantity: 3, unitPriceMinor: 700 }];
    const answers = await Promise.all(Array.from({ length: 12 }, () => place('erin', items, 'key-erin-1')));
    expect(new Set(answers.map((a) => a.order!.id)).size).toBe(1);
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    expect(new Set(answers.map((a) => JSON.stringify(a.order)))).toEqual(new Set([JSON.stringify(answers[0]!.order)]));
    expect(await stockOf('idem-p')).toMatchObject({ available: 97, reserved: 3 });

    const later = await place('erin', items, 'key-erin-1');
    expect(later).toEqual({ order: answers[0]!.order, replayed: true });
    const reused = await place('erin', [{ productId: 'idem-p', quantity: 4, unitPriceMinor: 700 }], 'key-erin-1').catch((e) => e);
    expect(reused.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetails.errorReason(reused.metadata)).toBe('idempotency-key-reused');
    // The same key from another customer is another key.
    expect((await place('frank', items, 'key-erin-1')).replayed).toBe(false);
    expect(await stockOf('idem-p')).toMatchObject({ available: 94, reserved: 6 });
  });

  it('when a keyed call was refused for stock, then its retry gets the same refusal', async () => {
    await product('idem-short', 1, 100);
    const items = [{ productId: 'idem-short', quantity: 5, unitPriceMinor: 100 }];
    const first = await place('gina', items, 'key-gina').catch((e) => e);
    await product('idem-short', 50, 100);
    const second = await place('gina', items, 'key-gina').catch((e) => e);
    expect([first.code, second.code]).toEqual([status.FAILED_PRECONDITION, status.FAILED_PRECONDITION]);
    expect(errorDetails.readInsufficientStock(second.metadata)).toEqual(errorDetails.readInsufficientStock(first.metadata));
  });
});

/** An order-command config whose shard connections go through TCP proxies the test can cut. */
async function behindProxies(inventoryAddress: string) {
  const stack = testStack.info();
  const proxies = stack.mysql.map((m) => new TcpProxy(m));
  for (const proxy of proxies) await proxy.start();
  const base = orderCommandConfig(inventoryAddress);
  const config = { ...base, shards: base.shards.map((s) => ({ ...s, port: proxies[stack.mysql.findIndex((m) => m.port === s.port)]!.port })) };
  return { proxies, config };
}

describe('PlaceOrder when the shard write fails after stock was reserved', () => {
  it('when the order cannot be stored, then the caller gets UNAVAILABLE, the stock comes back, and a retry with the key succeeds', async () => {
    const inventory = await startInventoryProcess();
    const { proxies, config } = await behindProxies(inventory.address);
    let cutNext = false;
    const oc = await startOrderCommand(config, {
      decorateRepository: (repository: OrderRepository) =>
        Object.assign(Object.create(repository) as OrderRepository, {
          completePlacement: async (...args: Parameters<OrderRepository['completePlacement']>) => {
            if (cutNext) {
              cutNext = false;
              for (const proxy of proxies) await proxy.cut();
            }
            return repository.completePlacement(...args);
          },
        }),
    });
    try {
      await inventory.api.upsertProduct({ id: 'fail-p', name: 'F', priceMinor: 100, available: 10 });
      cutNext = true;
      const request = placeOrderRequest('hank', { productId: 'fail-p', quantity: 4, unitPriceMinor: 100 }, { idempotencyKey: 'key-hank' });
      const error = await oc.api.placeOrder(request).catch((e) => e);
      expect(error.code).toBe(status.UNAVAILABLE);
      expect((await inventory.api.getProducts({ productIds: ['fail-p'] })).products[0]).toMatchObject({ available: 10, reserved: 0 });

      for (const proxy of proxies) await proxy.restore();
      // The claim's pending row and key are left behind while the shard was down: the pending sweeper gives them up.
      await new Promise((r) => setTimeout(r, 1200));
      const sweep = await startOrderCommand({ ...config, pendingTimeoutMs: 1000, grpc: { ...config.grpc, port: 0 } }, { relay: false });
      await sweep.app.sweeper.sweep();
      await sweep.app.lifecycle.stop();

      const retried = await oc.api.placeOrder(request);
      expect(retried.order?.status).toBe(orderV1.OrderStatus.ORDER_STATUS_RESERVED);
      expect((await inventory.api.getProducts({ productIds: ['fail-p'] })).products[0]).toMatchObject({ available: 6, reserved: 4 });
    } finally {
      for (const proxy of proxies) await proxy.restore();
      await oc.stop();
      for (const proxy of proxies) await proxy.stop();
      await inventory.stop();
    }
  });

  it('when an order without a key cannot be stored, then the caller gets UNAVAILABLE, nothing is stored, and the stock comes back', async () => {
    const inventory = await startInventoryProcess();
    const { proxies, config } = await behindProxies(inventory.address);
    const oc = await startOrderCommand(config, {
      decorateRepository: (repository: OrderRepository) =>
        Object.assign(Object.create(repository) as OrderRepository, {
          // The shards drop every connection during the write, and are back before the use case looks.
          insertPlaced: async (...args: Parameters<OrderRepository['insertPlaced']>) => {
            for (const proxy of proxies) await proxy.cut();
            try {
              return await repository.insertPlaced(...args);
            } finally {
              for (const proxy of proxies) await proxy.restore();
            }
          },
        }),
    });
    try {
      await inventory.api.upsertProduct({ id: 'fail-unkeyed', name: 'F', priceMinor: 100, available: 10 });
      const error = await oc.api.placeOrder(placeOrderRequest('ivy', { productId: 'fail-unkeyed', quantity: 3, unitPriceMinor: 100 })).catch((e) => e);
      expect(error.code).toBe(status.UNAVAILABLE);
      expect((await inventory.api.getProducts({ productIds: ['fail-unkeyed'] })).products[0]).toMatchObject({ available: 10, reserved: 0 });
      const listed = await oc.app.repository.findStalePending(new Date(Date.now() + 60_000), 100);
      expect(listed).toEqual([]);
    } finally {
      await oc.stop();
      for (const proxy of proxies) await proxy.stop();
      await inventory.stop();
    }
  });
});
