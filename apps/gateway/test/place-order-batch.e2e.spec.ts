import { randomUUID } from 'node:crypto';
import { startTestSystem, TestSystem } from './support';

/** A sample's value from the Prometheus text format: `name{labels} value`. */
const sample = (text: string, name: string, labels: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

/**
 * The four services as processes: placements that reach the gateway together travel to order-command in
 * one PlaceOrderBatch call, and each REST answer is still the one its own PlaceOrder call would have had.
 */
describe('concurrent POST /api/orders gathered into PlaceOrderBatch calls (four processes, real servers)', () => {
  let t: TestSystem;
  let admin: string;

  beforeAll(async () => {
    // A linger of a few milliseconds: requests sent together by this test are gathered whatever the scheduling.
    t = await startTestSystem({ ORDER_COMMAND_BATCH_LINGER_MS: '5' });
    admin = t.token('ops-admin', { admin: true });
    await t.http('PUT', '/api/products/batch-lamp', { token: admin, body: { name: 'Lamp', price: 10, stock: 100 } });
    await t.http('PUT', '/api/products/batch-rare', { token: admin, body: { name: 'Rare', price: 99, stock: 1 } });
  }, 180_000);

  afterAll(async () => {
    await t?.stop();
  });

  it('when placements arrive together, then they share calls to order-command, a refused one gets its own 409 problem+json and its neighbours 201', async () => {
    const body = (productId: string, quantity: number, price: number) => ({
      items: [{ product_id: productId, quantity, unit_price: price }],
      address: '1 Batch St',
      payment_method: 'card',
    });
    const requests = Array.from({ length: 16 }, (_, i) => ({
      requestId: `batch-${i}-${randomUUID()}`,
      body: i === 7 ? body('batch-rare', 2, 99) : body('batch-lamp', 1, 10),
      customer: `batch-customer-${i}`,
    }));
    const answers = await Promise.all(
      requests.map((r) => t.http('POST', '/api/orders', { token: t.token(r.customer), headers: { 'x-request-id': r.requestId }, body: r.body })),
    );

    expect(answers.map((a) => a.status)).toEqual(requests.map((_, i) => (i === 7 ? 409 : 201)));
    for (const [i, answer] of answers.entries()) {
      expect(answer.headers.get('x-request-id')).toBe(requests[i]!.requestId);
      if (i === 7) continue;
      expect(answer.body).toMatchObject({ customer_id: requests[i]!.customer, status: 'RESERVED', total: 10 });
      expect(answer.headers.get('location')).toBe(`/api/orders/${answer.body.id}`);
    }
    const refused = answers[7]!;
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({
      type: '/problems/insufficient-stock',
      status: 409,
      products: [{ product_id: 'batch-rare', requested: 2, available: 1 }],
    });
    expect(new Set(answers.filter((a) => a.status === 201).map((a) => a.body.id)).size).toBe(15);

    const product = await t.http('GET', '/api/products/batch-lamp');
    expect(product.body).toMatchObject({ available: 85 });

    // Every placement went in a PlaceOrderBatch call, fewer calls than placements.
    const metrics = (await t.http<string>('GET', '/metrics')).body;
    const labels = 'method="PlaceOrder",via="batch"';
    expect(sample(metrics, 'orderflow_downstream_batch_size_sum', labels)).toBe(16);
    const calls = sample(metrics, 'orderflow_downstream_batch_size_count', labels)!;
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThan(16);
    expect(sample(metrics, 'orderflow_downstream_batch_size_count', 'method="PlaceOrder",via="unary"') ?? 0).toBe(0);
  });
});
