import fc from 'fast-check';
import { allocateInArrivalOrder } from './stock';

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
