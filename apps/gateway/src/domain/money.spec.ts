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
    expect([0.1, 0.07, 0.29, 19.99, 99.5, 999_999.99, 1_000_000].map(toMinorUnits)).toEqual([10, 7, 29, 1999, 9950, 99_999_999, 100_000_000]);
  });

  it('when an amount has a third decimal place, is negative or not finite, then it is refused', () => {
    expect([1.001, 19.999, -1, Number.NaN, Number.POSITIVE_INFINITY].map(toMinorUnits)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('when a third decimal place comes with a large amount, then it is refused all the same (the tolerance does not grow)', () => {
    expect([999_999.001, 100_000.005, 123_456.789, 0.30000000000000004, 1e-7].map(toMinorUnits)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999_999 }), fc.integer({ min: 1, max: 9 }), (minor, thousandth) => {
        expect(toMinorUnits(Number(`${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}${thousandth}`))).toBeUndefined();
      }),
    );
  });
});
