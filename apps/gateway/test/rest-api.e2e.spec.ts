import { createHmac } from 'node:crypto';
import { startTestSystem, TestSystem } from './support';

/** Every row of the REST table (design §4) with its errors, through the real system. */
describe('REST API through the gateway (all four services, real servers)', () => {
  let t: TestSystem;
  let admin: string;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    t = await startTestSystem({ PAYMENT_WINDOW_MS: '60000' });
    admin = t.token('ops-admin', { admin: true });
    alice = t.token('alice');
    bob = t.token('bob');
    for (const [id, price, stock] of [
      ['mug', 12.5, 100],
      ['tee', 25, 5],
      ['rare', 99.99, 1],
    ] as const) {
      expect((await t.http('PUT', `/api/products/${id}`, { token: admin, body: { name: id, price, stock } })).status).toBe(201);
    }
  }, 180_000);
  afterAll(() => t?.stop());

  const order = (items = [{ product_id: 'mug', quantity: 2, unit_price: 12.5 }]) => ({ items, address: '1 Main St', payment_method: 'card' });
  const problemOf = (r: { headers: Headers; body: any }) => {
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toEqual(
      expect.objectContaining({ type: expect.any(String), title: expect.any(String), status: expect.any(Number), detail: expect.any(String) }),
    );
    return r.body;
  };

  describe('POST /api/orders', () => {
    it('when a customer places an order, then it is 201 with Location and the order, the customer taken from the token', async () => {
      const r = await t.http('POST', '/api/orders', { token: alice, body: { ...order(), customer_id: undefined } });
      expect(r.status).toBe(201);
      expect(r.headers.get('location')).toBe(`/api/orders/${r.body.id}`);
      expect(r.body).toMatchObject({
        customer_id: 'alice',
        status: 'RESERVED',
        items: [{ product_id: 'mug', quantity: 2, unit_price: 12.5 }],
        total: 25,
        address: '1 Main St',
        payment_method: 'card',
        version: 1,
      });
      for (const field of ['created_at', 'updated_at', 'expires_at']) expect(Date.parse(r.body[field])).not.toBeNaN();
    });

    it('when the body names a customer_id, then it is refused: the customer always comes from the token', async () => {
      const r = await t.http('POST', '/api/orders', { token: alice, body: { ...order(), customer_id: 'bob' } });
      expect(r.status).toBe(400);
      expect(problemOf(r).errors).toEqual([{ field: 'customer_id', message: 'is not allowed' }]);
    });

    it('when the body is invalid, then it is 400 listing every bad field', async () => {
      const r = await t.http('POST', '/api/orders', {
        token: alice,
        body: {
          items: [
            { product_id: 'mug', quantity: 0, unit_price: -1 },
            { quantity: 'two', unit_price: 1.234 },
          ],
          payment_method: 42,
        },
      });
      expect(r.status).toBe(400);
      const fields = problemOf(r)
        .errors.map((e: { field: string }) => e.field)
        .sort();
      expect(fields).toEqual(['address', 'items[0].quantity', 'items[0].unit_price', 'items[1].product_id', 'items[1].quantity', 'payment_method'].sort());
    });

    it('when a price has more than 2 decimal places, then it is 400 naming it', async () => {
      const r = await t.http('POST', '/api/orders', { token: alice, body: order([{ product_id: 'mug', quantity: 1, unit_price: 12.501 }]) });
      expect(r.status).toBe(400);
      expect(problemOf(r).errors).toEqual([{ field: 'items[0].unit_price', message: 'must have at most 2 decimal places' }]);
    });

    it('when there is no or a bad token, then it is 401', async () => {
      expect((await t.http('POST', '/api/orders', { body: order() })).status).toBe(401);
      const forged = alice.slice(0, -3) + (alice.endsWith('AAA') ? 'BBB' : 'AAA');
      expect(problemOf(await t.http('POST', '/api/orders', { token: forged, body: order() })).status).toBe(401);
      expect((await t.http('POST', '/api/orders', { token: t.token('alice', { ttlSeconds: -10 }), body: order() })).status).toBe(401);
      const otherKey = (() => {
        const [h, p] = alice.split('.');
        return `${h}.${p}.${createHmac('sha256', 'not-the-secret').update(`${h}.${p}`).digest('base64url')}`;
      })();
      expect((await t.http('GET', '/api/orders', { token: otherKey })).status).toBe(401);
    });

    it('when stock is short, then it is 409 insufficient-stock naming the product and what is available', async () => {
      const r = await t.http('POST', '/api/orders', { token: alice, body: order([{ product_id: 'tee', quantity: 6, unit_price: 25 }]) });
      expect(r.status).toBe(409);
      expect(problemOf(r)).toMatchObject({ type: '/problems/insufficient-stock', products: [{ product_id: 'tee', requested: 6, available: 5 }] });
    });

    it('when the client price differs from the catalog, then it is 409 price-changed with the current price', async () => {
      const r = await t.http('POST', '/api/orders', { token: alice, body: order([{ product_id: 'mug', quantity: 1, unit_price: 10 }]) });
      expect(r.status).toBe(409);
      expect(problemOf(r)).toMatchObject({
        type: '/problems/price-changed',
        detail: 'the price changed: mug costs 12.50, not 10.00',
        current_prices: [{ product_id: 'mug', unit_price: 12.5, requested_unit_price: 10 }],
      });
    });

    it('when a product is unknown, then it is 422 unknown-product naming it', async () => {
      const r = await t.http('POST', '/api/orders', { token: alice, body: order([{ product_id: 'ghost', quantity: 1, unit_price: 1 }]) });
      expect(r.status).toBe(422);
      expect(problemOf(r)).toMatchObject({ type: '/problems/unknown-product', products: ['ghost'] });
    });

    it('when an Idempotency-Key is retried, then the same status and body come back; with another body it is 422', async () => {
      const headers = { 'idempotency-key': 'alice-key-1' };
      const first = await t.http('POST', '/api/orders', { token: alice, body: order(), headers });
      const again = await t.http('POST', '/api/orders', { token: alice, body: order(), headers });
      expect([first.status, again.status]).toEqual([201, 201]);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('location')).toBe(first.headers.get('location'));
      const other = await t.http('POST', '/api/orders', { token: alice, body: order([{ product_id: 'mug', quantity: 3, unit_price: 12.5 }]), headers });
      expect(other.status).toBe(422);
      expect(problemOf(other).type).toBe('/problems/idempotency-key-reused');
      const bad = await t.http('POST', '/api/orders', { token: alice, body: order(), headers: { 'idempotency-key': 'x'.repeat(300) } });
      expect(bad.status).toBe(400);
      expect(problemOf(bad).errors[0].field).toBe('Idempotency-Key');
    });

    it('when the body is not JSON, too large, or of another type, then it is a 4xx problem', async () => {
      const notJson = await t.http('POST', '/api/orders', { token: alice, raw: '{"items": [', headers: { 'content-type': 'application/json' } });
      expect(notJson.status).toBe(400);
      problemOf(notJson);
      const huge = await t.http('POST', '/api/orders', { token: alice, body: { ...order(), address: 'x'.repeat(200_000) } });
      expect(huge.status).toBe(400);
      expect(problemOf(huge).errors[0].field).toBe('body');
      const text = await t.http('POST', '/api/orders', { token: alice, raw: 'hello', headers: { 'content-type': 'text/plain' } });
      expect(text.status).toBe(415);
      problemOf(text);
    });
  });

  describe('GET /api/orders/{id} and GET /api/orders', () => {
    it('when the owner or an admin reads an order, then it is 200; another customer gets 404, as for a missing order', async () => {
      const placed = (await t.http('POST', '/api/orders', { token: bob, body: order() })).body;
      expect((await t.http('GET', `/api/orders/${placed.id}`, { token: bob })).body).toMatchObject({ id: placed.id, customer_id: 'bob' });
      expect((await t.http('GET', `/api/orders/${placed.id}`, { token: admin })).status).toBe(200);
      const other = await t.http('GET', `/api/orders/${placed.id}`, { token: alice });
      const missing = await t.http('GET', `/api/orders/1${placed.id.slice(1)}9`, { token: alice });
      expect([other.status, missing.status]).toEqual([404, 404]);
      expect(problemOf(other).type).toBe(problemOf(missing).type);
      expect((await t.http('GET', '/api/orders/not-a-number', { token: bob })).status).toBe(400);
      expect((await t.http('GET', `/api/orders/${placed.id}`)).status).toBe(401);
    });

    it('when a customer lists, then only their own orders come back, newest first', async () => {
      const carol = t.token('carol');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await t.http('POST', '/api/orders', { token: carol, body: order() })).body.id);
      const list = await t.http('GET', '/api/orders?page_size=10', { token: carol });
      expect(list.status).toBe(200);
      // Listings are eventually consistent: wait for the projection.
      let orders = list.body.orders;
      for (let i = 0; i < 100 && orders.length < 3; i++) {
        await new Promise((r) => setTimeout(r, 50));
        orders = (await t.http('GET', '/api/orders?page_size=10', { token: carol })).body.orders;
      }
      expect(orders.map((o: { id: string }) => o.id)).toEqual([...ids].reverse());
      expect(orders.every((o: { customer_id: string }) => o.customer_id === 'carol')).toBe(true);
    });

    it('when the page token is tampered or the page size is out of range, then it is 400', async () => {
      expect(problemOf(await t.http('GET', '/api/orders?page_token=garbage', { token: alice })).status).toBe(400);
      expect(problemOf(await t.http('GET', '/api/orders?page_size=0', { token: alice })).status).toBe(400);
      expect(problemOf(await t.http('GET', '/api/orders?page_size=1000', { token: alice })).status).toBe(400);
      expect(problemOf(await t.http('GET', '/api/orders?color=red', { token: alice })).status).toBe(400);
    });
  });

  describe('POST /api/orders/{id}/cancel, /pay, /ship', () => {
    it('when the owner cancels, then it is 200 CANCELLED and the stock is back; cancelling again is 200 unchanged; paying it then is 409', async () => {
      const before = (await t.http('GET', '/api/products/tee')).body.available;
      const placed = (await t.http('POST', '/api/orders', { token: alice, body: order([{ product_id: 'tee', quantity: 2, unit_price: 25 }]) })).body;
      expect((await t.http('GET', '/api/products/tee')).body.available).toBe(before - 2);
      const cancelled = await t.http('POST', `/api/orders/${placed.id}/cancel`, { token: alice });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ status: 'CANCELLED', version: 2 });
      expect((await t.http('GET', '/api/products/tee')).body.available).toBe(before);
      expect((await t.http('POST', `/api/orders/${placed.id}/cancel`, { token: alice })).body).toEqual(cancelled.body);
      const pay = await t.http('POST', `/api/orders/${placed.id}/pay`, { token: alice });
      expect(pay.status).toBe(409);
      expect(problemOf(pay).type).toBe('/problems/invalid-transition');
    });

    it('when the owner pays and an admin ships, then it is PAID then SHIPPED; a repeat is 200 unchanged; wrong roles and states are refused', async () => {
      const placed = (await t.http('POST', '/api/orders', { token: alice, body: order() })).body;
      expect((await t.http('POST', `/api/orders/${placed.id}/pay`, { token: bob })).status).toBe(404);
      expect((await t.http('POST', `/api/orders/${placed.id}/ship`, { token: admin })).status).toBe(409);
      const paid = await t.http('POST', `/api/orders/${placed.id}/pay`, { token: alice });
      expect(paid.body).toMatchObject({ status: 'PAID', version: 2 });
      // Paying a PAID order again is a safe retry: 200 with the order as it is, nothing changed.
      const again = await t.http('POST', `/api/orders/${placed.id}/pay`, { token: alice });
      expect([again.status, again.body]).toEqual([200, paid.body]);
      expect((await t.http('POST', `/api/orders/${placed.id}/ship`, { token: alice })).status).toBe(403);
      const shipped = await t.http('POST', `/api/orders/${placed.id}/ship`, { token: admin });
      expect(shipped.body).toMatchObject({ status: 'SHIPPED', version: 3 });
      expect((await t.http('POST', `/api/orders/${placed.id}/ship`, { token: admin })).body).toEqual(shipped.body);
      expect(problemOf(await t.http('POST', `/api/orders/${placed.id}/pay`, { token: alice })).type).toBe('/problems/invalid-transition');
      expect((await t.http('POST', `/api/orders/${placed.id}/cancel`, { token: alice })).status).toBe(409);
    });

    it('when an admin cancels a customer order, then it is 200; another customer cannot', async () => {
      const placed = (await t.http('POST', '/api/orders', { token: alice, body: order() })).body;
      expect((await t.http('POST', `/api/orders/${placed.id}/cancel`, { token: bob })).status).toBe(404);
      expect((await t.http('POST', `/api/orders/${placed.id}/cancel`, { token: admin })).body.status).toBe('CANCELLED');
    });
  });

  describe('products', () => {
    it('when an admin puts a product twice, then it is 201 then 200; anyone can read it; a customer cannot write', async () => {
      const created = await t.http('PUT', '/api/products/lamp', { token: admin, body: { name: 'Lamp', price: 30, stock: 7 } });
      const updated = await t.http('PUT', '/api/products/lamp', { token: admin, body: { name: 'Desk lamp', price: 32.5, stock: 9 } });
      expect([created.status, updated.status]).toEqual([201, 200]);
      expect((await t.http('GET', '/api/products/lamp')).body).toEqual({ id: 'lamp', name: 'Desk lamp', price: 32.5, available: 9 });
      expect((await t.http('PUT', '/api/products/lamp', { token: alice, body: { name: 'x', price: 1, stock: 1 } })).status).toBe(403);
      expect((await t.http('PUT', '/api/products/lamp', { body: { name: 'x', price: 1, stock: 1 } })).status).toBe(401);
      expect((await t.http('GET', '/api/products/nothing-here')).status).toBe(404);
      const bad = await t.http('PUT', '/api/products/lamp', { token: admin, body: { name: '', price: -2, stock: 1.5 } });
      expect(bad.status).toBe(400);
      expect(
        problemOf(bad)
          .errors.map((e: { field: string }) => e.field)
          .sort(),
      ).toEqual(['name', 'price', 'stock']);
    });
  });

  describe('operations', () => {
    it('when /healthz, /readyz and /metrics are asked, then the gateway is live, ready, and exposes HTTP, business and lag metrics', async () => {
      expect((await t.http('GET', '/healthz')).status).toBe(200);
      const ready = await t.http('GET', '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.checks).toEqual({ orderCommand: 'SERVING', orderQuery: 'SERVING', inventory: 'SERVING' });
      const metrics = await t.http('GET', '/metrics');
      expect(metrics.status).toBe(200);
      for (const name of [
        'orderflow_http_requests_total',
        'orderflow_http_request_duration_seconds',
        'orderflow_orders_placed_total',
        'orderflow_projection_lag_seconds',
        'orderflow_projection_lag_events',
      ]) {
        expect(metrics.body).toContain(name);
      }
      expect(metrics.body).toMatch(/orderflow_orders_placed_total [1-9]/);
    });

    it('when /openapi.json is read, then it is OpenAPI 3 and documents every order and product operation', async () => {
      const spec = (await t.http('GET', '/openapi.json')).body;
      expect(spec.openapi).toMatch(/^3\./);
      expect(Object.keys(spec.paths)).toEqual(
        expect.arrayContaining([
          '/api/orders',
          '/api/orders/{id}',
          '/api/orders/{id}/history',
          '/api/orders/{id}/cancel',
          '/api/orders/{id}/pay',
          '/api/orders/{id}/ship',
          '/api/products/{id}',
          '/api/products/{id}/stock',
          '/api/admin/orders',
          '/problems/{slug}',
        ]),
      );
      expect(Object.keys(spec.paths['/api/orders'])).toEqual(expect.arrayContaining(['get', 'post']));
    });

    it('when a request carries X-Request-Id, then the response echoes it; an unknown route is a 404 problem', async () => {
      const r = await t.http('GET', '/healthz', { headers: { 'x-request-id': 'trace-123' } });
      expect(r.headers.get('x-request-id')).toBe('trace-123');
      expect(problemOf(await t.http('GET', '/api/nothing')).status).toBe(404);
    });
  });
});
