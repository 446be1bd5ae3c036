import { eventually, startTestSystem, TestSystem } from './support';

/** An order's history through REST: every status change with when, who and why. */
describe('GET /api/orders/{id}/history through the gateway (all four services, real servers)', () => {
  let t: TestSystem;
  let admin: string;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    // A short payment window and a fast sweeper, so one test can watch the system expire an order;
    // the other orders are paid or cancelled well inside the window.
    t = await startTestSystem({ PAYMENT_WINDOW_MS: '4000', ORDER_SWEEP_INTERVAL_MS: '200', RESERVATION_GRACE_MS: '60000' });
    admin = t.token('ops-admin', { admin: true });
    alice = t.token('alice');
    bob = t.token('bob');
    expect((await t.http('PUT', '/api/products/lamp', { token: admin, body: { name: 'Lamp', price: 10, stock: 100 } })).status).toBe(201);
  }, 180_000);
  afterAll(() => t?.stop());

  const place = async (token: string) => {
    const r = await t.http('POST', '/api/orders', {
      token,
      body: { items: [{ product_id: 'lamp', quantity: 1, unit_price: 10 }], address: '1 Main St', payment_method: 'card' },
    });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const historyOf = (id: string, token?: string) => t.http('GET', `/api/orders/${id}/history`, { token });
  const problemOf = (r: { status: number; headers: Headers; body: any }, status: number) => {
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) });
    return r.body;
  };

  it('when a customer places and pays an order and an admin ships it, then its history lists the three changes oldest first, with increasing versions and times, who and why', async () => {
    const id = await place(alice);
    expect((await t.http('POST', `/api/orders/${id}/pay`, { token: alice })).status).toBe(200);
    expect((await t.http('POST', `/api/orders/${id}/ship`, { token: admin })).status).toBe(200);

    const r = await historyOf(id, alice);

    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body.order_id).toBe(id);
    expect(r.body.entries).toEqual([
      { version: 1, status: 'RESERVED', occurred_at: expect.any(String), actor: { kind: 'customer', id: 'alice' }, reason: 'placed' },
      { version: 2, status: 'PAID', occurred_at: expect.any(String), actor: { kind: 'customer', id: 'alice' }, reason: 'paid' },
      { version: 3, status: 'SHIPPED', occurred_at: expect.any(String), actor: { kind: 'admin', id: 'ops-admin' }, reason: 'shipped' },
    ]);
    const times = r.body.entries.map((e: { occurred_at: string }) => Date.parse(e.occurred_at));
    expect(times.every((time: number) => !Number.isNaN(time))).toBe(true);
    expect(times[0]).toBeLessThan(times[1]);
    expect(times[1]).toBeLessThan(times[2]);
  });

  it("when an admin cancels a customer's order, then the history names the admin and says so", async () => {
    const id = await place(alice);
    expect((await t.http('POST', `/api/orders/${id}/cancel`, { token: admin })).status).toBe(200);

    const r = await historyOf(id, alice);

    expect(r.status).toBe(200);
    expect(r.body.entries.map((e: { status: string; actor: unknown; reason: string }) => [e.status, e.actor, e.reason])).toEqual([
      ['RESERVED', { kind: 'customer', id: 'alice' }, 'placed'],
      ['CANCELLED', { kind: 'admin', id: 'ops-admin' }, 'cancelled by an admin'],
    ]);
  });

  it('when an order is left unpaid past its window, then the history shows the system expired it, with no id', async () => {
    const id = await place(bob);

    const entries = await eventually(
      async () => {
        const r = await historyOf(id, bob);
        return r.body.entries?.length === 2 ? r.body.entries : undefined;
      },
      20_000,
      'the sweeper to expire the order',
    );

    expect(entries[1]).toEqual({ version: 2, status: 'EXPIRED', occurred_at: expect.any(String), actor: { kind: 'system' }, reason: 'payment window expired' });
    expect(Date.parse(entries[1].occurred_at)).toBeGreaterThan(Date.parse(entries[0].occurred_at));
  });

  it("when another customer asks for an order's history, then it is a 404 problem; an admin may read anyone's", async () => {
    const id = await place(alice);

    problemOf(await historyOf(id, bob), 404);
    const asAdmin = await historyOf(id, admin);
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.entries).toEqual([
      { version: 1, status: 'RESERVED', occurred_at: expect.any(String), actor: { kind: 'customer', id: 'alice' }, reason: 'placed' },
    ]);
  });

  it('when the id is malformed, then it is a 400 problem naming it; without a token it is 401; an unknown order is 404', async () => {
    expect(problemOf(await historyOf('not-an-id', alice), 400).errors).toEqual([expect.objectContaining({ field: 'id' })]);
    problemOf(await historyOf('99999999999999999999', alice), 400); // digits, but beyond 64 bits
    const id = await place(alice);
    problemOf(await historyOf(id), 401);
    problemOf(await historyOf('12345', alice), 404);
  });

  it('when /openapi.json is read, then it documents the history operation with its body and problems', async () => {
    const spec = (await t.http('GET', '/openapi.json')).body;
    const operation = spec.paths['/api/orders/{id}/history']?.get;
    expect(operation).toMatchObject({ tags: ['orders'], security: [{ bearerAuth: [] }] });
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '404']));
    expect(operation.responses['404'].content).toHaveProperty(['application/problem+json']);
    const body = operation.responses['200'].content['application/json'].schema;
    expect(Object.keys(body.properties)).toEqual(['order_id', 'entries']);
    expect(body.properties.entries.items.properties.actor.properties.kind.enum).toEqual(['customer', 'admin', 'system']);
  });
});
