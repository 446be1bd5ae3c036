import fc from 'fast-check';
import type { Product, ReserveCommand } from './model';
import { allocateBatch, BatchSnapshot } from './stock-allocation';

const expiresAt = new Date('2030-01-01T00:00:00Z');
const product = (id: string, available: number, version = 7, priceMinor = 100): Product => ({
  id,
  name: id,
  priceMinor,
  available,
  reserved: 0,
  sold: 0,
  received: available,
  version,
});
const reserve = (orderId: string, productId: string, quantity: number, expectedPrices: ReserveCommand['expectedPrices'] = []): ReserveCommand => ({
  orderId,
  items: [{ productId, quantity }],
  expiresAt,
  expectedPrices,
});
const snapshot = (products: Product[], stored: string[] = []): BatchSnapshot => ({
  products: new Map(products.map((p) => [p.id, p])),
  storedOrderIds: new Set(stored),
});

describe('allocateBatch', () => {
  it('when requests for one product exceed its stock, then they are granted first come first served and one that does not fit is refused alone', () => {
    const commands = [reserve('o1', 'hot', 2), reserve('o2', 'hot', 3), reserve('o3', 'hot', 1), reserve('o4', 'hot', 1)];
    const { decisions, takes, granted } = allocateBatch(commands, snapshot([product('hot', 4)]));
    expect(decisions.map((d) => d.kind)).toEqual(['reserved', 'short', 'reserved', 'reserved']);
    expect(decisions[1]).toEqual({ kind: 'short', available: 2 });
    expect(granted.map((c) => c.orderId)).toEqual(['o1', 'o3', 'o4']);
    expect(takes).toEqual([{ productId: 'hot', version: 7, quantity: 4, availableAfter: 0 }]);
  });

  it('when a request is granted, then its decision carries the reservation it stores, with its placement id', () => {
    const command = { ...reserve('o1', 'a', 2), placementId: 'pl-1' };
    const { decisions } = allocateBatch([command], snapshot([product('a', 5)]));
    const reservation = { orderId: 'o1', status: 'RESERVED', items: [{ productId: 'a', quantity: 2 }], expiresAt, placementId: 'pl-1' };
    expect(decisions).toEqual([{ kind: 'reserved', reservation }]);
  });

  it('when an order is already stored, then it is answered from what is stored and takes no stock', () => {
    const { decisions, takes, granted } = allocateBatch([reserve('old', 'a', 5), reserve('new', 'a', 5)], snapshot([product('a', 5)], ['old']));
    expect(decisions.map((d) => d.kind)).toEqual(['stored', 'reserved']);
    expect(granted.map((c) => c.orderId)).toEqual(['new']);
    expect(takes).toEqual([{ productId: 'a', version: 7, quantity: 5, availableAfter: 0 }]);
  });

  it('when a product is unknown, then its requests are refused as not found and the other products are still served', () => {
    const { decisions, takes } = allocateBatch([reserve('o1', 'gone', 1), reserve('o2', 'a', 1)], snapshot([product('a', 1)]));
    expect(decisions.map((d) => d.kind)).toEqual(['not-found', 'reserved']);
    expect(takes.map((t) => t.productId)).toEqual(['a']);
  });

  it('when a request expects another price, then it is refused with the mismatch before any stock is counted for it', () => {
    const commands = [reserve('o1', 'a', 3, [{ productId: 'a', unitPriceMinor: 90 }]), reserve('o2', 'a', 3, [{ productId: 'a', unitPriceMinor: 100 }])];
    const { decisions, takes } = allocateBatch(commands, snapshot([product('a', 3)]));
    expect(decisions[0]).toEqual({ kind: 'price-changed', mismatches: [{ productId: 'a', expectedUnitPriceMinor: 90, currentUnitPriceMinor: 100 }] });
    expect(decisions[1]?.kind).toBe('reserved');
    expect(takes).toEqual([{ productId: 'a', version: 7, quantity: 3, availableAfter: 0 }]);
  });

  it('when nothing can be granted, then there is no take and nothing to store', () => {
    const { decisions, takes, granted } = allocateBatch([reserve('o1', 'a', 2)], snapshot([product('a', 1)]));
    expect(decisions).toEqual([{ kind: 'short', available: 1 }]);
    expect(takes).toEqual([]);
    expect(granted).toEqual([]);
  });

  it('when several products share a batch, then there is one take per product in the order their first request came, at the version read', () => {
    const commands = [reserve('o1', 'b', 1), reserve('o2', 'a', 2), reserve('o3', 'b', 1)];
    const { takes, granted } = allocateBatch(commands, snapshot([product('a', 5, 3), product('b', 5, 9)]));
    expect(takes).toEqual([
      { productId: 'b', version: 9, quantity: 2, availableAfter: 3 },
      { productId: 'a', version: 3, quantity: 2, availableAfter: 3 },
    ]);
    expect(granted.map((c) => c.orderId)).toEqual(['o1', 'o3', 'o2']);
  });

  it('when any batch is allocated, then no product gives more than it has, each take sums its grants, and every command gets one decision', () => {
    const arbitrary = fc.record({
      stock: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 3 }),
      requests: fc.array(fc.record({ product: fc.integer({ min: 0, max: 3 }), quantity: fc.integer({ min: 1, max: 8 }), stored: fc.boolean() }), {
        maxLength: 30,
      }),
    });
    fc.assert(
      fc.property(arbitrary, ({ stock, requests }) => {
        const products = stock.map((available, i) => product(`p${i}`, available));
        const commands = requests.map((r, i) => reserve(`o${i}`, `p${r.product}`, r.quantity));
        const stored = requests.flatMap((r, i) => (r.stored ? [`o${i}`] : []));
        const { decisions, takes, granted } = allocateBatch(commands, snapshot(products, stored));
        expect(decisions).toHaveLength(commands.length);
        for (const take of takes) {
          const available = products.find((p) => p.id === take.productId)!.available;
          const sum = granted.filter((c) => c.items[0]!.productId === take.productId).reduce((n, c) => n + c.items[0]!.quantity, 0);
          expect(take.quantity).toBe(sum);
          expect(take.availableAfter).toBe(available - sum);
          expect(take.availableAfter).toBeGreaterThanOrEqual(0);
        }
        granted.forEach((c) => expect(stored).not.toContain(c.orderId));
      }),
    );
  });
});
