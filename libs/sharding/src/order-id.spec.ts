import fc from 'fast-check';
import {
  BUCKET_COUNT,
  decodeOrderId,
  encodeOrderId,
  InvalidOrderIdError,
  isValidOrderId,
  MAX_ORDER_ID,
  MAX_ORDER_ID_TIMESTAMP_MS,
  MAX_SEQUENCE,
  ORDER_ID_EPOCH_MS,
  parseOrderId,
} from './order-id';

const partsArb = fc.record({
  timestampMs: fc.integer({ min: ORDER_ID_EPOCH_MS, max: MAX_ORDER_ID_TIMESTAMP_MS }),
  bucket: fc.integer({ min: 0, max: BUCKET_COUNT - 1 }),
  sequence: fc.integer({ min: 0, max: MAX_SEQUENCE }),
});

describe('order id', () => {
  it('when valid parts are encoded and decoded, then the same parts come back', () => {
    fc.assert(
      fc.property(partsArb, (parts) => {
        const id = encodeOrderId(parts);
        expect(isValidOrderId(id)).toBe(true);
        expect(decodeOrderId(id)).toEqual(parts);
      }),
    );
  });

  it('when any id in range is decoded and encoded, then the same decimal string comes back', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_ORDER_ID }), (value) => {
        expect(encodeOrderId(decodeOrderId(value.toString()))).toBe(value.toString());
      }),
    );
  });

  it('when one id has a later millisecond, then it is numerically greater whatever the bucket and sequence', () => {
    fc.assert(
      fc.property(partsArb, partsArb, (a, b) => {
        fc.pre(a.timestampMs !== b.timestampMs);
        const [earlier, later] = a.timestampMs < b.timestampMs ? [a, b] : [b, a];
        expect(BigInt(encodeOrderId(later)) > BigInt(encodeOrderId(earlier))).toBe(true);
      }),
    );
  });

  it('when parts are known, then the id has the documented bit layout', () => {
    const id = encodeOrderId({ timestampMs: ORDER_ID_EPOCH_MS + 1000, bucket: 5, sequence: 7 });
    expect(BigInt(id)).toBe((1000n << 22n) | (5n << 12n) | 7n);
    expect(decodeOrderId(MAX_ORDER_ID.toString())).toEqual({ timestampMs: MAX_ORDER_ID_TIMESTAMP_MS, bucket: 1023, sequence: 4095 });
    expect(new Date(decodeOrderId(id).timestampMs).toISOString()).toBe('2025-01-01T00:00:01.000Z');
  });

  it.each([
    ['empty', ''],
    ['negative', '-1'],
    ['signed', '+1'],
    ['leading zero', '01'],
    ['zeros only', '00'],
    ['space', ' 1'],
    ['decimal point', '1.0'],
    ['exponent', '1e3'],
    ['hex', '0x1f'],
    ['non-ascii digit', '١٢٣'],
    ['2^63', (MAX_ORDER_ID + 1n).toString()],
    ['20 digits', '10000000000000000000'],
    ['a megabyte', '9'.repeat(1_000_000)],
  ])('when the id is %s, then it is rejected with InvalidOrderIdError', (_, id) => {
    expect(isValidOrderId(id)).toBe(false);
    expect(() => decodeOrderId(id)).toThrow(InvalidOrderIdError);
  });

  it('when the id is not a string at all, then it is not valid', () => {
    for (const value of [undefined, null, 12, 12n, {}, ['1']]) {
      expect(isValidOrderId(value)).toBe(false);
      expect(() => parseOrderId(value as unknown as string)).toThrow(InvalidOrderIdError);
    }
  });

  it('when the id is 0 or 2^63 - 1, then it is valid', () => {
    expect(isValidOrderId('0')).toBe(true);
    expect(isValidOrderId(MAX_ORDER_ID.toString())).toBe(true);
  });

  it('when any decimal string is checked, then it is valid exactly when it is a canonical integer in range', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^-?[0-9]{0,21}$/), (text) => {
        const canonical = /^(0|[1-9][0-9]*)$/.test(text) && BigInt(text) <= MAX_ORDER_ID;
        expect(isValidOrderId(text)).toBe(canonical);
      }),
    );
  });

  it.each([
    ['a timestamp before the epoch', { timestampMs: ORDER_ID_EPOCH_MS - 1, bucket: 0, sequence: 0 }, 'timestampMs'],
    ['a timestamp past 41 bits', { timestampMs: MAX_ORDER_ID_TIMESTAMP_MS + 1, bucket: 0, sequence: 0 }, 'timestampMs'],
    ['a fractional timestamp', { timestampMs: ORDER_ID_EPOCH_MS + 0.5, bucket: 0, sequence: 0 }, 'timestampMs'],
    ['bucket 1024', { timestampMs: ORDER_ID_EPOCH_MS, bucket: 1024, sequence: 0 }, 'bucket'],
    ['bucket -1', { timestampMs: ORDER_ID_EPOCH_MS, bucket: -1, sequence: 0 }, 'bucket'],
    ['sequence 4096', { timestampMs: ORDER_ID_EPOCH_MS, bucket: 0, sequence: 4096 }, 'sequence'],
    ['a NaN sequence', { timestampMs: ORDER_ID_EPOCH_MS, bucket: 0, sequence: NaN }, 'sequence'],
  ])('when encoding %s, then InvalidOrderIdError names the field', (_, parts, field) => {
    expect(() => encodeOrderId(parts)).toThrow(InvalidOrderIdError);
    expect(() => encodeOrderId(parts)).toThrow(field);
  });
});
