import fc from 'fast-check';
import {
  InsufficientStockError,
  PriceChangedError,
  ProductNotFoundError,
  ReservationMismatchError,
  ReservationStateError,
  ReservationTakenError,
} from './errors';
import type { Product, Reservation } from './model';
import { allocateInArrivalOrder, assertReservable, findPriceMismatches, replayReserve } from './stock';

const product = (id: string, priceMinor: number): Product => ({ id, name: id, priceMinor, available: 5, reserved: 0, sold: 0, received: 5, version: 1 });

describe('findPriceMismatches', () => {
  it('when an expected price differs from the product price, then only that product is named, with both prices', () => {
    const products = new Map([
      ['a', product('a', 100)],
      ['b', product('b', 250)],
    ]);
    expect(
      findPriceMismatches(products, [
        { productId: 'a', unitPriceMinor: 100 },
        { productId: 'b', unitPriceMinor: 200 },
      ]),
    ).toEqual([{ productId: 'b', expectedUnitPriceMinor: 200, currentUnitPriceMinor: 250 }]);
    expect(findPriceMismatches(products, [])).toEqual([]);
  });
});

describe('assertReservable', () => {
  const products = new Map([['a', product('a', 100)]]); // 5 available at 100

  it('when a Reserve has several problems, then an unknown product wins, then a changed price, then short stock', () => {
    const item = (productId: string, quantity: number) => ({ productId, quantity });
    expect(() => assertReservable(products, { items: [item('a', 9), item('x', 1)], expectedPrices: [{ productId: 'a', unitPriceMinor: 1 }] })).toThrow(
      ProductNotFoundError,
    );
    expect(() => assertReservable(products, { items: [item('a', 9)], expectedPrices: [{ productId: 'a', unitPriceMinor: 1 }] })).toThrow(PriceChangedError);
    expect(() => assertReservable(products, { items: [item('a', 9)], expectedPrices: [{ productId: 'a', unitPriceMinor: 100 }] })).toThrow(
      InsufficientStockError,
    );
    expect(() => assertReservable(products, { items: [item('a', 5)], expectedPrices: [] })).not.toThrow();
  });
});

describe('replayReserve', () => {
  const existing: Reservation = { orderId: 'o1', status: 'RESERVED', items: [{ productId: 'a', quantity: 2 }], placementId: 'p1' };

  it('when the same placement retries with the same items, then the stored reservation is the answer', () => {
    expect(replayReserve(existing, { items: [{ productId: 'a', quantity: 2 }], placementId: 'p1' })).toBe(existing);
    expect(replayReserve(existing, { items: [{ productId: 'a', quantity: 2 }] })).toBe(existing);
  });

  it('when another placement made the same order id, then it is refused even with the same items, and a release marker too', () => {
    expect(() => replayReserve(existing, { items: [{ productId: 'a', quantity: 2 }], placementId: 'p2' })).toThrow(ReservationTakenError);
    const marker: Reservation = { orderId: 'o1', status: 'RELEASED', items: [] };
    expect(() => replayReserve(marker, { items: [{ productId: 'a', quantity: 2 }], placementId: 'p2' })).toThrow(ReservationTakenError);
    expect(() => replayReserve(marker, { items: [{ productId: 'a', quantity: 2 }] })).toThrow(ReservationStateError);
    expect(() => replayReserve(existing, { items: [{ productId: 'a', quantity: 3 }], placementId: 'p1' })).toThrow(ReservationMismatchError);
  });
});

describe('allocateInArrivalOrder', () => {
  it('when stock runs out mid-batch, then earlier requests are filled, a too-large one fails alone, and a later small one still fits', () => {
    expect(allocateInArrivalOrder(5, [2, 2, 3, 1])).toEqual({ outcomes: ['filled', 'filled', { shortOf: 1 }, 'filled'], total: 5 });
  });

  it('when any batch is allocated, then the total never exceeds the stock and equals the filled quantities', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 300 }), (available, quantities) => {
        const { outcomes, total } = allocateInArrivalOrder(available, quantities);
        expect(total).toBeLessThanOrEqual(available);
        expect(total).toBe(quantities.reduce((sum, q, i) => sum + (outcomes[i] === 'filled' ? q : 0), 0));
        // A refused request really did not fit in what was left when its turn came.
        let left = available;
        quantities.forEach((q, i) => {
          if (outcomes[i] === 'filled') left -= q;
          else expect(q).toBeGreaterThan(left);
        });
      }),
    );
  });
});
