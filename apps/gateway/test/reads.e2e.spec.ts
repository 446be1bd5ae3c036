import { eventually, startTestSystem, TestSystem } from './support';

describe('reads through the REST API: read-your-writes and paging', () => {
  let t: TestSystem;
  let admin: string;
  beforeAll(async () => {
    t = await startTestSystem();
    admin = t.token('ops-admin', { admin: true });
    await t.http('PUT', '/api/products/page-p', { token: admin, body: { name: 'P', price: 1.5, stock: 100_000 } });
  }, 180_000);
  afterAll(() => t?.stop());

  const place = (token: string) =>
    t.http('POST', '/api/orders', { token, body: { items: [{ product_id: 'page-p', quantity: 1, unit_price: 1.5 }], address: 'A', payment_method: 'card' } });

  it('when an order is read right after it was placed, then it is there every time (read-your-writes)', async () => {
    const token = t.token('ryw-customer');
    const results = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const placed = await place(token);
        const read = await t.http('GET', `/api/orders/${placed.body.id}`, { token });
        return [placed.status, read.status, read.body.id === placed.body.id];
      }),
    );
    expect(results.every(([p, r, same]) => p === 201 && r === 200 && same)).toBe(true);
  });

  it('when a customer pages through 57 orders while new ones arrive, then every order of the first listing appears exactly once, newest first', async () => {
    const token = t.token('pager');
    const ids: string[] = [];
    for (let i = 0; i < 57; i++) ids.push((await place(token)).body.id);
    await eventually(
      async () => ((await t.http('GET', '/api/orders?page_size=100', { token })).body.orders.length === 57 ? true : undefined),
      15_000,
      'projection',
    );
    const seen: string[] = [];
    let pageToken = '';
    for (let page = 0; page < 20; page++) {
      const r = await t.http('GET', `/api/orders?page_size=10${pageToken ? `&page_token=${encodeURIComponent(pageToken)}` : ''}`, { token });
      expect(r.status).toBe(200);
      expect(r.body.orders.length).toBeLessThanOrEqual(10);
      seen.push(...r.body.orders.map((o: { id: string }) => o.id));
      if (page === 1) await place(token); // a newer order must not shift the pages already served
      pageToken = r.body.next_page_token;
      if (!pageToken) break;
    }
    expect(seen).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('when a page token from another customer is used, then it is 400', async () => {
    const token = t.token('pager');
    const first = await t.http('GET', '/api/orders?page_size=5', { token });
    expect(first.body.next_page_token).toBeTruthy();
    const stolen = await t.http('GET', `/api/orders?page_size=5&page_token=${encodeURIComponent(first.body.next_page_token)}`, { token: t.token('thief') });
    expect(stolen.status).toBe(400);
    const flipped = first.body.next_page_token.slice(0, -2) + (first.body.next_page_token.endsWith('AA') ? 'BB' : 'AA');
    expect((await t.http('GET', `/api/orders?page_size=5&page_token=${encodeURIComponent(flipped)}`, { token })).status).toBe(400);
  });
});
