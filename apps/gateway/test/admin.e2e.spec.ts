import { eventually, startTestSystem, TestSystem } from './support';

const byIdDescending = (a: string, b: string) => (BigInt(b) > BigInt(a) ? 1 : BigInt(b) < BigInt(a) ? -1 : 0);

interface PlacedOrder {
  id: string;
  customer: string;
  status: string;
}

describe('admin views through the REST API: all orders across shards, stock adjustments', () => {
  let t: TestSystem;
  let admin: string;
  const placed: PlacedOrder[] = [];
  const customers = ['adm-alice', 'adm-bob', 'adm-carol', 'adm-dave', 'adm-erin'];

  beforeAll(async () => {
    t = await startTestSystem();
    admin = t.token('ops-admin', { admin: true });
    await t.http('PUT', '/api/products/adm-p', { token: admin, body: { name: 'P', price: 2, stock: 100_000 } });
    for (const [c, customer] of customers.entries()) {
      const token = t.token(customer);
      for (let i = 0; i < 5; i++) {
        const r = await t.http('POST', '/api/orders', {
          token,
          body: { items: [{ product_id: 'adm-p', quantity: 1, unit_price: 2 }], address: 'A', payment_method: 'card' },
        });
        expect(r.status).toBe(201);
        let status = 'RESERVED';
        if ((c + i) % 3 === 1) status = (await t.http('POST', `/api/orders/${r.body.id}/pay`, { token })).body.status;
        if ((c + i) % 3 === 2) status = (await t.http('POST', `/api/orders/${r.body.id}/cancel`, { token })).body.status;
        placed.push({ id: r.body.id, customer, status });
      }
    }
    // The listing is eventually consistent: wait until the read side has every order in its last state.
    await eventually(
      async () => {
        const r = await t.http('GET', '/api/admin/orders?page_size=100', { token: admin });
        const seen = new Map<string, string>(r.body.orders?.map((o: { id: string; status: string }) => [o.id, o.status]));
        return placed.every((o) => seen.get(o.id) === o.status) ? true : undefined;
      },
      20_000,
      'the projection of every order',
    );
  }, 180_000);
  afterAll(() => t?.stop());

  async function pageThrough(query: string): Promise<{ pages: { id: string; status: string; customer_id: string }[][] }> {
    const pages: { id: string; status: string; customer_id: string }[][] = [];
    let pageToken = '';
    do {
      const r = await t.http('GET', `/api/admin/orders?${query}${pageToken ? `&page_token=${encodeURIComponent(pageToken)}` : ''}`, { token: admin });
      expect(r.status).toBe(200);
      pages.push(r.body.orders);
      pageToken = r.body.next_page_token;
    } while (pageToken && pages.length < 50);
    return { pages };
  }

  it('when /openapi.json is read, then both admin operations are documented with bearer auth and their problems', async () => {
    const spec = (await t.http('GET', '/openapi.json')).body;
    const list = spec.paths['/api/admin/orders'].get;
    const stock = spec.paths['/api/products/{id}/stock'].post;
    expect(list.security).toEqual([{ bearerAuth: [] }]);
    expect(list.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['customer_id', 'page_size', 'page_token', 'status']);
    expect(Object.keys(list.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '429', '503']));
    expect(stock.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(stock.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '409', '415']));
    expect(stock.responses['409'].content).toHaveProperty(['application/problem+json']);
  });

  describe('GET /api/admin/orders', () => {
    it('when called without a token or by a customer, then it is 401 or 403, even with a query that is not valid', async () => {
      const bad = '/api/admin/orders?page_size=0&status=LOST&extra=1';
      const anonymous = await t.http('GET', bad);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
      expect((await t.http('GET', bad, { token: t.token('adm-alice') })).body).toMatchObject({ status: 403, type: '/problems/forbidden' });
      const asAdmin = await t.http('GET', bad, { token: admin });
      expect(asAdmin.status).toBe(400);
      expect(asAdmin.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['extra', 'page_size', 'status']);
    });

    it('when an admin pages through all orders 4 at a time, then every order of every customer comes once, newest first', async () => {
      const { pages } = await pageThrough('page_size=4');
      expect(pages.flat().map((o) => o.id)).toEqual(placed.map((o) => o.id).sort(byIdDescending));
      expect(pages.slice(0, -1).every((page) => page.length === 4)).toBe(true);
      expect(new Set(pages.flat().map((o) => o.customer_id))).toEqual(new Set(customers));
    });

    it('when an admin filters by status, by customer, or both, then exactly the matching orders come, newest first', async () => {
      const expectPaged = async (query: string, wanted: (o: PlacedOrder) => boolean) => {
        const { pages } = await pageThrough(`page_size=3&${query}`);
        const expected = placed
          .filter(wanted)
          .map((o) => o.id)
          .sort(byIdDescending);
        expect(expected.length).toBeGreaterThan(0);
        expect(pages.flat().map((o) => o.id)).toEqual(expected);
      };
      await expectPaged('status=PAID', (o) => o.status === 'PAID');
      await expectPaged('status=CANCELLED', (o) => o.status === 'CANCELLED');
      await expectPaged('customer_id=adm-carol', (o) => o.customer === 'adm-carol');
      await expectPaged('customer_id=adm-bob&status=RESERVED', (o) => o.customer === 'adm-bob' && o.status === 'RESERVED');
      const none = await t.http('GET', '/api/admin/orders?customer_id=nobody-here', { token: admin });
      expect(none.body).toEqual({ orders: [], next_page_token: '' });
    });

    it('when a page token is tampered with or used with other filters, then it is 400 invalid-page-token', async () => {
      const first = await t.http('GET', '/api/admin/orders?page_size=2&status=RESERVED', { token: admin });
      const token: string = first.body.next_page_token;
      expect(token).toBeTruthy();
      const i = Math.floor(token.length / 2);
      const flipped = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
      for (const query of [`status=RESERVED&page_token=${encodeURIComponent(flipped)}`, `status=PAID&page_token=${encodeURIComponent(token)}`]) {
        const r = await t.http('GET', `/api/admin/orders?page_size=2&${query}`, { token: admin });
        expect(r.body).toMatchObject({ status: 400, type: '/problems/invalid-page-token' });
      }
      // A customer's own listing token is no admin token either.
      const own = await t.http('GET', '/api/orders?page_size=1', { token: t.token('adm-alice') });
      expect((await t.http('GET', `/api/admin/orders?page_size=1&page_token=${encodeURIComponent(own.body.next_page_token)}`, { token: admin })).status).toBe(
        400,
      );
    });
  });

  describe('POST /api/products/{id}/stock', () => {
    const adjust = (id: string, body: unknown, token: string = admin) => t.http('POST', `/api/products/${id}/stock`, { token, body });

    it('when called without a token or by a customer, then it is 401 or 403, even with a body that is not valid', async () => {
      await t.http('PUT', '/api/products/adm-s1', { token: admin, body: { name: 'S1', price: 1, stock: 5 } });
      expect((await t.http('POST', '/api/products/adm-s1/stock', { body: { delta: 'x' } })).status).toBe(401);
      expect((await adjust('adm-s1', { delta: 'x' }, t.token('adm-alice'))).body).toMatchObject({ status: 403, type: '/problems/forbidden' });
      expect(
        (await t.http('POST', '/api/products/adm-s1/stock', { token: t.token('adm-alice'), raw: '{not json', headers: { 'content-type': 'application/json' } }))
          .status,
      ).toBe(403);
      expect((await t.http('GET', '/api/products/adm-s1')).body.available).toBe(5);
    });

    it('when an admin adds and removes stock, then available moves by each delta', async () => {
      await t.http('PUT', '/api/products/adm-s2', { token: admin, body: { name: 'S2', price: 1, stock: 5 } });
      const up = await adjust('adm-s2', { delta: 20, reason: '  Wareneingang 入荷 ' });
      expect(up.status).toBe(200);
      expect(up.body).toEqual({ id: 'adm-s2', name: 'S2', price: 1, available: 25 });
      expect((await adjust('adm-s2', { delta: -25, reason: 'recount' })).body.available).toBe(0);
      expect((await t.http('GET', '/api/products/adm-s2')).body.available).toBe(0);
    });

    it('when a negative delta exceeds what is available, then it is 409 stock-adjustment-refused naming what is available, and nothing changes', async () => {
      await t.http('PUT', '/api/products/adm-s3', { token: admin, body: { name: 'S3', price: 1, stock: 4 } });
      const r = await adjust('adm-s3', { delta: -5, reason: 'shrinkage' });
      expect(r.status).toBe(409);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body).toMatchObject({ type: '/problems/stock-adjustment-refused', products: [{ product_id: 'adm-s3', requested: 5, available: 4 }] });
      expect((await t.http('GET', '/problems/stock-adjustment-refused')).status).toBe(200);
      expect((await t.http('GET', '/api/products/adm-s3')).body.available).toBe(4);
    });

    it.each([
      ['a zero delta', { delta: 0, reason: 'x' }, ['delta']],
      ['a delta as a string', { delta: '5', reason: 'x' }, ['delta']],
      ['a fractional delta', { delta: 1.5, reason: 'x' }, ['delta']],
      ['a delta beyond the limit', { delta: 1_000_000_001, reason: 'x' }, ['delta']],
      ['no reason', { delta: 1 }, ['reason']],
      ['a blank reason', { delta: 1, reason: '   ' }, ['reason']],
      ['a reason of 201 characters', { delta: 1, reason: 'é'.repeat(201) }, ['reason']],
      ['an unknown field', { delta: 1, reason: 'x', who: 'me' }, ['who']],
    ])('when the body has %s, then it is 400 naming the field and nothing changes', async (_, body, fields) => {
      await t.http('PUT', '/api/products/adm-s4', { token: admin, body: { name: 'S4', price: 1, stock: 7 } });
      const r = await adjust('adm-s4', body);
      expect(r.status).toBe(400);
      expect(r.body.errors.map((e: { field: string }) => e.field)).toEqual(fields);
      expect((await t.http('GET', '/api/products/adm-s4')).body.available).toBe(7);
    });

    it('when the product does not exist, then it is 404', async () => {
      expect((await adjust('adm-nothing', { delta: 1, reason: 'x' })).body).toMatchObject({ status: 404, type: '/problems/not-found' });
    });

    it('when adjustments race orders for the same product, then available never goes negative and every unit is accounted for', async () => {
      await t.http('PUT', '/api/products/adm-race', { token: admin, body: { name: 'Race', price: 1, stock: 12 } });
      const deltas = Array.from({ length: 16 }, (_, i) => (i % 2 ? -2 : 1));
      const [orders, adjustments] = await Promise.all([
        Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            t.http('POST', '/api/orders', {
              token: t.token(`adm-racer-${i}`),
              body: { items: [{ product_id: 'adm-race', quantity: 1, unit_price: 1 }], address: 'A', payment_method: 'card' },
            }),
          ),
        ),
        Promise.all(deltas.map((delta, i) => adjust('adm-race', { delta, reason: `race ${i}` }))),
      ]);
      expect(new Set([...orders, ...adjustments].map((r) => r.status).filter((s) => s !== 200 && s !== 201))).toEqual(new Set([409]));
      const sold = orders.filter((r) => r.status === 201).length;
      const applied = deltas.filter((_, i) => adjustments[i]!.status === 200).reduce((sum, d) => sum + d, 0);
      const { available } = (await t.http('GET', '/api/products/adm-race')).body;
      expect(available).toBeGreaterThanOrEqual(0);
      expect(available).toBe(12 + applied - sold);
    });
  });
});
