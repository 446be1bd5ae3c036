import { status } from '@grpc/grpc-js';
import { TcpProxy, testStack } from '@orderflow/stack';
import { inMinutes, startInventory } from './support';

describe('inventory when Redis or MySQL goes away (real servers behind a TCP proxy)', () => {
  it('when Redis is unreachable, then Reserve is UNAVAILABLE, no stock changes, and it recovers when Redis is back', async () => {
    const redis = testStack.info().redis[0]!;
    const proxy = new TcpProxy(redis);
    await proxy.start();
    const inv = await startInventory({ env: { INVENTORY_REDIS: `127.0.0.1:${proxy.port}` } });
    try {
      await inv.api.upsertProduct({ id: 'r-down', name: 'R', priceMinor: 100, available: 5 });
      await proxy.cut();
      const error = await inv.api.reserve({ orderId: 'r-down-1', items: [{ productId: 'r-down', quantity: 1 }], expiresAt: inMinutes(5) }).catch((e) => e);
      expect(error.code).toBe(status.UNAVAILABLE);
      expect(error.details).toContain('redis');
      expect((await inv.api.getProducts({ productIds: ['r-down'] })).products[0]).toMatchObject({ available: 5, reserved: 0 });

      await proxy.restore();
      const deadline = Date.now() + 15_000;
      for (;;) {
        const result = await inv.api.reserve({ orderId: 'r-down-1', items: [{ productId: 'r-down', quantity: 1 }], expiresAt: inMinutes(5) }).catch((e) => e);
        if (result.reservation) break;
        if (Date.now() > deadline) throw result;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect((await inv.api.getProducts({ productIds: ['r-down'] })).products[0]).toMatchObject({ available: 4, reserved: 1 });
    } finally {
      await proxy.restore();
      await inv.stop();
      await proxy.stop();
    }
  });

  it('when MySQL is unreachable, then calls are UNAVAILABLE (not INTERNAL) and nothing is lost once it is back', async () => {
    const mysql = testStack.info().mysql[0]!;
    const proxy = new TcpProxy(mysql);
    await proxy.start();
    const inv = await startInventory({ env: { INVENTORY_MYSQL_PORT: String(proxy.port) } });
    try {
      await inv.api.upsertProduct({ id: 'm-down', name: 'M', priceMinor: 100, available: 5 });
      await inv.api.reserve({ orderId: 'm-down-1', items: [{ productId: 'm-down', quantity: 2 }], expiresAt: inMinutes(5) });
      await proxy.cut();
      for (const call of [
        () => inv.api.reserve({ orderId: 'm-down-2', items: [{ productId: 'm-down', quantity: 1 }], expiresAt: inMinutes(5) }),
        () => inv.api.commit({ orderId: 'm-down-1' }),
        () => inv.api.getProducts({ productIds: ['m-down'] }),
      ]) {
        const error = await call().catch((e) => e);
        expect(error.code).toBe(status.UNAVAILABLE);
      }
      await proxy.restore();
      const deadline = Date.now() + 15_000;
      let product;
      while (!product) {
        product = await inv.api.getProducts({ productIds: ['m-down'] }).then(
          (r) => r.products[0],
          () => undefined,
        );
        if (Date.now() > deadline) throw new Error('inventory did not recover after MySQL came back');
        if (!product) await new Promise((r) => setTimeout(r, 200));
      }
      expect(product).toMatchObject({ available: 3, reserved: 2, sold: 0 });
      expect((await inv.api.commit({ orderId: 'm-down-1' })).reservation?.items).toEqual([{ productId: 'm-down', quantity: 2 }]);
    } finally {
      await proxy.restore();
      await inv.stop();
      await proxy.stop();
    }
  });

  it('when one of three Redis masters is down, then the Redlock quorum still serves; when two are down, then Reserve is UNAVAILABLE', async () => {
    const proxies = testStack.info().redis.map((redis) => new TcpProxy(redis));
    expect(proxies).toHaveLength(3);
    for (const proxy of proxies) await proxy.start();
    const inv = await startInventory({ env: { INVENTORY_REDIS: proxies.map((p) => `127.0.0.1:${p.port}`).join(',') } });
    const reserve = (orderId: string) => inv.api.reserve({ orderId, items: [{ productId: 'quorum', quantity: 1 }], expiresAt: inMinutes(5) });
    try {
      await inv.api.upsertProduct({ id: 'quorum', name: 'Q', priceMinor: 100, available: 10 });
      await proxies[0]!.cut();
      expect((await reserve('q-1')).reservation?.orderId).toBe('q-1');
      await proxies[1]!.cut();
      expect((await reserve('q-2').catch((e) => e)).code).toBe(status.UNAVAILABLE);
      expect((await inv.api.getProducts({ productIds: ['quorum'] })).products[0]).toMatchObject({ available: 9, reserved: 1 });
    } finally {
      for (const proxy of proxies) await proxy.restore();
      await inv.stop();
      for (const proxy of proxies) await proxy.stop();
    }
  });
});
