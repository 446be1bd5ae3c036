import { InvalidArgumentError } from './errors';
import { DEFAULT_LIMITS, normalizeItems, validateAdjustStock, validateReserve, validateUpsert } from './validation';

const now = new Date('2026-01-01T00:00:00Z');
const later = new Date('2026-01-01T00:15:00Z');

function violations(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidArgumentError) return error.violations.map((v) => v.field);
    throw error;
  }
  throw new Error('expected InvalidArgumentError');
}

/** The fields a Reserve request is refused for, now, under `limits`. */
const reserveViolations = (request: Parameters<typeof validateReserve>[0], limits = DEFAULT_LIMITS) => violations(() => validateReserve(request, limits, now));

describe('reserve validation', () => {
  it('when items repeat a product, then they are summed and sorted by product id', () => {
    expect(
      normalizeItems([
        { productId: 'b', quantity: 1 },
        { productId: 'a', quantity: 2 },
        { productId: 'b', quantity: 4 },
      ]),
    ).toEqual([
      { productId: 'a', quantity: 2 },
      { productId: 'b', quantity: 5 },
    ]);
  });

  it('when the request is valid, then the command carries the normalized items and the expiry', () => {
    const command = validateReserve(
      {
        orderId: '123',
        items: [
          { productId: 'p', quantity: 1 },
          { productId: 'p', quantity: 1 },
        ],
        expiresAt: later,
      },
      DEFAULT_LIMITS,
      now,
    );
    expect(command).toEqual({ orderId: '123', items: [{ productId: 'p', quantity: 2 }], expiresAt: later, expectedPrices: [] });
  });

  it('when expected prices and a placement id come with it, then the command carries them', () => {
    const command = validateReserve(
      {
        orderId: '123',
        items: [{ productId: 'p', quantity: 1 }],
        expiresAt: later,
        expectedPrices: [{ productId: 'p', unitPriceMinor: 250 }],
        placementId: 'c0ffee-1',
      },
      DEFAULT_LIMITS,
      now,
    );
    expect(command).toEqual({
      orderId: '123',
      items: [{ productId: 'p', quantity: 1 }],
      expiresAt: later,
      expectedPrices: [{ productId: 'p', unitPriceMinor: 250 }],
      placementId: 'c0ffee-1',
    });
    expect(
      validateReserve({ orderId: '1', items: [{ productId: 'p', quantity: 1 }], expiresAt: later, placementId: '' }, DEFAULT_LIMITS, now),
    ).not.toHaveProperty('placementId');
  });

  it('when an expected price is for a product not reserved, negative, or the placement id is malformed, then each is named', () => {
    const fields = reserveViolations({
      orderId: '1',
      items: [{ productId: 'p', quantity: 1 }],
      expiresAt: later,
      expectedPrices: [
        { productId: 'q', unitPriceMinor: 1 },
        { productId: 'p', unitPriceMinor: -1 },
      ],
      placementId: 'has spaces',
    });
    expect(fields).toEqual(['expected_prices[0].product_id', 'expected_prices[1].unit_price_minor', 'placement_id']);
  });

  it('when several fields are bad, then every one of them is named', () => {
    expect(
      reserveViolations({
        orderId: ' ',
        items: [
          { productId: '', quantity: 1.5 },
          { productId: 'ok', quantity: 0 },
        ],
        expiresAt: now,
      }),
    ).toEqual(['order_id', 'items[0].product_id', 'items[0].quantity', 'items[1].quantity', 'expires_at']);
  });

  it('when items of one product sum past the quantity limit, then the summed quantity is refused', () => {
    const limits = { ...DEFAULT_LIMITS, maxQuantity: 5 };
    const items = [
      { productId: 'p', quantity: 3 },
      { productId: 'p', quantity: 3 },
    ];
    expect(reserveViolations({ orderId: 'o', items, expiresAt: later }, limits)).toEqual(['items(p).quantity']);
  });

  it('when there are more items than the limit, then items is refused', () => {
    const items = Array.from({ length: DEFAULT_LIMITS.maxItemsPerReservation + 1 }, (_, i) => ({ productId: `p${i}`, quantity: 1 }));
    expect(reserveViolations({ orderId: 'o', items, expiresAt: later })).toEqual(['items']);
  });

  it('when a product upsert has a negative stock or an empty name, then both are named', () => {
    expect(violations(() => validateUpsert({ id: 'p', name: '  ', priceMinor: 100, available: -1 }, DEFAULT_LIMITS))).toEqual(['name', 'available']);
  });
});

describe('validateAdjustStock', () => {
  const valid = { productId: 'p-1', delta: 5, reason: 'restock', actorId: 'ops@example.com' };
  const fields = (input: Partial<typeof valid> & Record<string, unknown>) => {
    try {
      validateAdjustStock({ ...valid, ...input }, DEFAULT_LIMITS);
      return [];
    } catch (error) {
      return (error as InvalidArgumentError).violations.map((v) => v.field);
    }
  };

  it('when the reason is in any script and padded, then it is accepted trimmed, its length counted in characters', () => {
    expect(validateAdjustStock({ ...valid, reason: '  Überzählig – 在庫調整 🚚 ' }, DEFAULT_LIMITS).reason).toBe('Überzählig – 在庫調整 🚚');
    expect(fields({ reason: '🚚'.repeat(200) })).toEqual([]);
    expect(fields({ reason: '🚚'.repeat(201) })).toEqual(['reason']);
  });

  it.each([
    ['a zero delta', { delta: 0 }, ['delta']],
    ['a fractional delta', { delta: 1.5 }, ['delta']],
    ['a delta beyond the stock limit', { delta: -1_000_000_001 }, ['delta']],
    ['a blank reason', { reason: '   ' }, ['reason']],
    ['a reason with a line break', { reason: 'a\nb' }, ['reason']],
    ['no actor', { actorId: '' }, ['actor_id']],
    ['a bad product id', { productId: 'no spaces' }, ['product_id']],
  ])('when the input has %s, then it is refused naming the field', (_, input, expected) => {
    expect(fields(input)).toEqual(expected);
  });
});
