import fc from 'fast-check';
import { fromMinorUnits, toMinorUnits } from './money';

describe('money', () => {
  it('when an amount has at most 2 decimal places, then it converts to exact minor units and back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), (minor) => {
        const amount = fromMinorUnits(minor);
        expect(toMinorUnits(amount)).toBe(minor);
      }),
    );
    expect([0.1, 0.07, 19.99, 1.005 + 0.005].map(toMinorUnits)).toEqual([10, 7, 1999, 101]);
  });

  it('when an amount has a third decimal place, is negative or not finite, then it is refused', () => {
    expect([1.001, 19.999, -1, Number.NaN, Number.POSITIVE_INFINITY].map(toMinorUnits)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});
