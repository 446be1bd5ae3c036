import fc from 'fast-check';
import { startTestSystem, TestSystem } from './support';

/** Malformed input gets a 4xx naming the problem, never a 5xx, and never changes stock (design §8, invariant 6). */
describe('fuzzing POST /api/orders (fast-check, real system)', () => {
  let t: TestSystem;
  let token: string;
  beforeAll(async () => {
    t = await startTestSystem();
    const admin = t.token('ops-admin', { admin: true });
    await t.http('PUT', '/api/products/fuzz-a', { token: admin, body: { name: 'A', price: 10, stock: 3 } });
    await t.http('PUT', '/api/products/fuzz-b', { token: admin, body: { name: 'B', price: 0.99, stock: 2 } });
    token = t.token('fuzzer');
  }, 180_000);
  afterAll(() => t?.stop());

  const stock = async () => Promise.all(['fuzz-a', 'fuzz-b'].map(async (id) => (await t.http('GET', `/api/products/${id}`)).body.available));

  // Mostly-wrong bodies: wrong types, out-of-range numbers, odd strings, extra fields, deep nesting.
  const scalar = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(-1, 0, 1e308, 1e-9, 10.001, '10', 'NaN'));
  const anything = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), scalar, { maxKeys: 3 }));
  const item = fc.record(
    {
      product_id: fc.oneof(fc.constantFrom('fuzz-a', 'fuzz-b', 'nope', '', ' ', 'a'.repeat(70), '../etc'), anything),
      quantity: fc.oneof(fc.integer({ min: -5, max: 5000 }), anything),
      unit_price: fc.oneof(fc.constantFrom(10, 0.99, 10.5, 1.001, -10), anything),
      extra: anything,
    },
    { requiredKeys: [] },
  );
  const body = fc.record(
    {
      items: fc.oneof(fc.array(item, { maxLength: 5 }), anything),
      address: fc.oneof(fc.string({ maxLength: 600 }), anything),
      payment_method: fc.oneof(fc.constantFrom('card', 'paypal', 'gold'), anything),
      customer_id: anything,
    },
    { requiredKeys: [] },
  );
  // A valid order is the one thing that may change stock; the generators above exclude it by design:
  // every body carries at least one invalid field (`customer_id`, or an `extra` item field) or misses one.
  const invalidBody = body.filter(
    (b) =>
      'customer_id' in b ||
      !('items' in b) ||
      !('address' in b) ||
      !('payment_method' in b) ||
      (Array.isArray(b.items) && b.items.some((i) => typeof i === 'object' && i !== null && 'extra' in i)),
  );

  it('when 300 malformed bodies are posted, then every answer is a 4xx problem naming fields, and stock never changes', async () => {
    const before = await stock();
    await fc.assert(
      fc.asyncProperty(invalidBody, async (payload) => {
        const r = await t.http('POST', '/api/orders', { token, body: payload });
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(r.headers.get('content-type')).toMatch(/problem\+json/);
        expect(typeof r.body.detail).toBe('string');
      }),
      { numRuns: 300 },
    );
    expect(await stock()).toEqual(before);
  }, 120_000);

  // Junk paths: route words, ids too long or malformed, bad percent-encodings, random segments.
  const segment = fc.oneof(
    fc.constantFrom(
      'api',
      'orders',
      'products',
      'problems',
      'pay',
      'ship',
      'cancel',
      'fuzz-a',
      '1',
      '%zz',
      '%',
      '%2F',
      '..',
      '12345678901234567890123',
      'x'.repeat(120),
    ),
    fc.string({ maxLength: 12 }).map(encodeURIComponent),
  );
  const junkPath = fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`);

  it('when junk paths are asked with any method, then every answer is as documented and, when an error, a 4xx problem; stock never changes', async () => {
    const before = await stock();
    await fc.assert(
      fc.asyncProperty(junkPath, fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), fc.boolean(), async (path, method, withToken) => {
        const r = await t.http(method, path, withToken ? { token } : {}); // t.http checks the answer against /openapi.json
        expect(r.status).toBeLessThan(500);
        if (r.status >= 400) expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }),
      { numRuns: 300 },
    );
    expect(await stock()).toEqual(before);
  }, 120_000);

  it('when raw bytes that are not JSON are posted, then every answer is a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
        async (raw, type) => {
          const r = await t.http('POST', '/api/orders', { token, raw, headers: { 'content-type': type } });
          expect(r.status).toBeGreaterThanOrEqual(400);
          expect(r.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  }, 60_000);
});
