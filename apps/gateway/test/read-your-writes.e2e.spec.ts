import { startTestSystem, TestSystem } from './support';

/**
 * Read-your-writes after every change (issue 10, part 3), with the projection slowed down on purpose:
 * the outbox relay lingers 1.2 s before it publishes, so the read side is always behind the answer a
 * client just got, and the gateway waits for it only 200 ms before it asks the command side.
 */
describe('read-your-writes with a slow projection (all four services, real servers)', () => {
  let t: TestSystem;
  let admin: string;
  beforeAll(async () => {
    t = await startTestSystem({ OUTBOX_LINGER_MS: '1200', READ_YOUR_WRITES_WAIT_MS: '200', PAYMENT_WINDOW_MS: '600000' });
    admin = t.token('ops-admin', { admin: true });
    expect((await t.http('PUT', '/api/products/ryw-p', { token: admin, body: { name: 'RYW', price: 3, stock: 10_000 } })).status).toBe(201);
  }, 180_000);
  afterAll(() => t?.stop());

  const body = { items: [{ product_id: 'ryw-p', quantity: 1, unit_price: 3 }], address: 'A', payment_method: 'card' };

  /** Every answer the customer reads must be at least as new as the last one a change gave them. */
  async function rounds(customer: string, count: number): Promise<string[]> {
    const token = t.token(customer);
    const stale: string[] = [];
    const expectFresh = async (what: string, id: string, status: string, version: number) => {
      const got = await t.http('GET', `/api/orders/${id}`, { token });
      if (got.status !== 200 || got.body.status !== status || got.body.version !== version)
        stale.push(`${what}: GET ${id} answered ${got.status} ${got.body.status} v${got.body.version}, not ${status} v${version}`);
      const listed = await t.http('GET', '/api/orders?page_size=5', { token });
      const entry = listed.body.orders?.find((o: { id: string }) => o.id === id);
      if (listed.status !== 200 || entry?.status !== status || entry?.version !== version)
        stale.push(`${what}: listing shows ${id} as ${entry ? `${entry.status} v${entry.version}` : 'missing'}, not ${status} v${version}`);
      if (listed.body.orders?.length > 5) stale.push(`${what}: the listing holds ${listed.body.orders.length} orders, page_size 5`);
    };
    for (let i = 0; i < count; i++) {
      const paid = await t.http('POST', '/api/orders', { token, body });
      expect(paid.status).toBe(201);
      await expectFresh('created', paid.body.id, 'RESERVED', 1);
      expect((await t.http('POST', `/api/orders/${paid.body.id}/pay`, { token })).status).toBe(200);
      await expectFresh('paid', paid.body.id, 'PAID', 2);
      const cancelled = await t.http('POST', '/api/orders', { token, body });
      expect(cancelled.status).toBe(201);
      expect((await t.http('POST', `/api/orders/${cancelled.body.id}/cancel`, { token })).status).toBe(200);
      await expectFresh('cancelled', cancelled.body.id, 'CANCELLED', 2);
      // A change made by someone else through this gateway (an admin ships) is seen by the owner too.
      expect((await t.http('POST', `/api/orders/${paid.body.id}/ship`, { token: admin })).status).toBe(200);
      await expectFresh('shipped', paid.body.id, 'SHIPPED', 3);
    }
    return stale;
  }

  it('when three customers each create, pay, cancel and get shipped ten times, reading after every change, then no answer is stale', async () => {
    const stale = (await Promise.all(['ryw-alice', 'ryw-bob', 'ryw-carol'].map((c) => rounds(c, 10)))).flat();
    expect(stale).toEqual([]);
  }, 300_000);

  it('when the projection catches up, then the listing pages through every order once, newest first, at its last version', async () => {
    const token = t.token('ryw-alice');
    const seen: { id: string; status: string }[] = [];
    let pageToken = '';
    const deadline = Date.now() + 20_000;
    do {
      const page = await t.http('GET', `/api/orders?page_size=7${pageToken ? `&page_token=${encodeURIComponent(pageToken)}` : ''}`, { token });
      expect(page.status).toBe(200);
      expect(page.body.orders.length).toBeLessThanOrEqual(7);
      seen.push(...page.body.orders);
      pageToken = page.body.next_page_token;
    } while (pageToken && Date.now() < deadline);
    expect(seen).toHaveLength(20);
    expect(new Set(seen.map((o) => o.id)).size).toBe(20);
    expect(seen.map((o) => o.id)).toEqual([...seen.map((o) => o.id)].sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : -1)));
    expect(seen.filter((o) => o.status === 'SHIPPED')).toHaveLength(10);
    expect(seen.filter((o) => o.status === 'CANCELLED')).toHaveLength(10);
  }, 60_000);
});
