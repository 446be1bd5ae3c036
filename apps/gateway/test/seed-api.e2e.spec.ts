import fc from 'fast-check';
import { startTestSystem, TestSystem } from './support';

/** What a client written against the seed's README sends, Orderflow accepts (issue 10, part 1). */
describe("the seed's API as its clients send it (all four services, real servers)", () => {
  let t: TestSystem;
  let admin: string;
  let customer: string;
  beforeAll(async () => {
    // Limits raised in one place (the environment both the gateway and order-command read).
    t = await startTestSystem({ MAX_ITEMS: '60', MAX_QUANTITY: '2000' });
    admin = t.token('ops-admin', { admin: true });
    customer = t.token('seed-client');
    expect((await t.http('PUT', '/api/products/product-uuid', { token: admin, body: { name: 'Seed product', price: 99.5, stock: 100_000 } })).status).toBe(201);
  }, 180_000);
  afterAll(() => t?.stop());

  const post = (raw: string) => t.http('POST', '/api/orders', { token: customer, raw, headers: { 'content-type': 'application/json' } });

  it("when the seed's example body is posted exactly as written, then it is 201 with its values, and a GET returns the same text byte for byte", async () => {
    const seedExample = '{"items":[{"product_id":"product-uuid","quantity":2,"unit_price":99.50}],"address":"配送地址","payment_method":"信用卡"}';
    const created = await post(seedExample);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      items: [{ product_id: 'product-uuid', quantity: 2, unit_price: 99.5 }],
      total: 199,
      address: '配送地址',
      payment_method: '信用卡',
      status: 'RESERVED',
    });
    const response = await fetch(`${t.url}/api/orders/${created.body.id}`, { headers: { authorization: `Bearer ${customer}` } });
    expect(response.status).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    // The UTF-8 bytes of the text as sent, not escaped, not re-encoded.
    expect(bytes.includes(Buffer.from('"address":"配送地址"', 'utf8'))).toBe(true);
    expect(bytes.includes(Buffer.from('"payment_method":"信用卡"', 'utf8'))).toBe(true);
  });

  it('when payment_method is any text (another word, another script, emoji), then it is accepted and returned as sent, trimmed', async () => {
    for (const method of ['credit_card', 'Kreditkarte', 'بطاقة ائتمان', 'クレジットカード', '💳 card', '  cash  ']) {
      const r = await post(JSON.stringify({ items: [{ product_id: 'product-uuid', quantity: 1, unit_price: 99.5 }], address: 'A', payment_method: method }));
      expect(r.status).toBe(201);
      expect(r.body.payment_method).toBe(method.trim());
    }
  });

  it('when a free-text field is empty, only spaces, too long, or not Unicode text, then it is 400 saying which field and why', async () => {
    const cases: [unknown, unknown, string][] = [
      ['A', '', 'payment_method'],
      ['A', '   ', 'payment_method'],
      ['A', 'x'.repeat(65), 'payment_method'],
      ['A', 'card\ud800', 'payment_method'],
      ['\udfffA', 'card', 'address'],
      ['a'.repeat(501), 'card', 'address'],
    ];
    for (const [address, method, field] of cases) {
      const r = await post(JSON.stringify({ items: [{ product_id: 'product-uuid', quantity: 1, unit_price: 99.5 }], address, payment_method: method }));
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    }
  });

  it('when limits are raised in the one place both services read, then an order within them is accepted end to end', async () => {
    const items = Array.from({ length: 55 }, () => ({ product_id: 'product-uuid', quantity: 1, unit_price: 99.5 }));
    items[0]!.quantity = 1500;
    const r = await post(JSON.stringify({ items, address: 'A', payment_method: 'card' }));
    expect(r.status).toBe(201);
    expect(r.body.items).toHaveLength(55);
    const beyond = await post(
      JSON.stringify({ items: [{ product_id: 'product-uuid', quantity: 2001, unit_price: 99.5 }], address: 'A', payment_method: 'card' }),
    );
    expect(beyond.status).toBe(400);
    expect(beyond.body.errors.map((e: { field: string }) => e.field)).toEqual(['items[0].quantity']);
  });

  it('when a price has a third decimal place, at any amount, then it is 400 naming it', async () => {
    for (const unitPrice of [99.501, 999_999.001]) {
      const r = await post(
        JSON.stringify({ items: [{ product_id: 'product-uuid', quantity: 1, unit_price: unitPrice }], address: 'A', payment_method: 'card' }),
      );
      expect(r.status).toBe(400);
      expect(r.body.errors).toEqual([{ field: 'items[0].unit_price', message: 'must have at most 2 decimal places' }]);
    }
  });

  it('when address and payment_method are any text of any plane, then it is 201 with the text back trimmed, or 400 naming the field: never a 5xx', async () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ maxLength: 10 }).map((s) => `${s}\ud83d`),
    );
    await fc.assert(
      fc.asyncProperty(text, text, async (address, method) => {
        const r = await post(JSON.stringify({ items: [{ product_id: 'product-uuid', quantity: 1, unit_price: 99.5 }], address, payment_method: method }));
        if (r.status === 201) {
          expect(r.body.address).toBe(address.trim());
          expect(r.body.payment_method).toBe(method.trim());
        } else {
          expect(r.status).toBe(400);
          expect(r.body.errors.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
