import fc from 'fast-check';
import { BUCKET_COUNT, decodeOrderId, InvalidOrderIdError, MAX_SEQUENCE, ORDER_ID_EPOCH_MS } from './order-id';
import { OrderIdGenerator } from './order-id-generator';

const START = Date.UTC(2026, 5, 1);

interface Burst {
  /** Clock moves by this much before the burst: zero stalls, negative steps back. */
  clockStep: number;
  buckets: number[];
}

/** Runs the bursts against one generator with a scripted clock; returns every id with what was asked. */
function run(bursts: Burst[]): { id: string; bucket: number; clock: number }[] {
  let now = START;
  const generator = new OrderIdGenerator(() => now);
  const made: { id: string; bucket: number; clock: number }[] = [];
  for (const burst of bursts) {
    now += burst.clockStep;
    for (const bucket of burst.buckets) made.push({ id: generator.next(bucket), bucket, clock: now });
  }
  return made;
}

/** Checks every id without one `expect` per id (that alone would take seconds for 10,000 ids). */
function expectGeneratorInvariants(made: { id: string; bucket: number; clock: number }[]): void {
  const violations: string[] = [];
  const seen = new Set<bigint>();
  const lastByBucket = new Map<number, bigint>();
  let lastMs = -Infinity;
  let maxClock = -Infinity;
  made.forEach((m, i) => {
    const value = BigInt(m.id);
    const parts = decodeOrderId(m.id);
    maxClock = Math.max(maxClock, m.clock);
    const problems = [
      seen.has(value) && 'duplicate',
      parts.bucket !== m.bucket && `bucket ${parts.bucket} instead of ${m.bucket}`,
      parts.timestampMs < lastMs && 'earlier millisecond than the id before',
      parts.timestampMs < maxClock && 'behind the clock',
      // Running ahead of the clock is bounded by the milliseconds that overflowed.
      parts.timestampMs > maxClock + Math.ceil((i + 1) / (MAX_SEQUENCE + 1)) && 'too far ahead of the clock',
      (lastByBucket.get(m.bucket) ?? -1n) >= value && 'not above the previous id of its bucket',
    ].filter((p): p is string => typeof p === 'string');
    if (problems.length > 0) violations.push(`id ${i} (${m.id}): ${problems.join(', ')}`);
    seen.add(value);
    lastByBucket.set(m.bucket, value);
    lastMs = parts.timestampMs;
  });
  expect(violations.slice(0, 5)).toEqual([]);
}

const bucketArb = fc.integer({ min: 0, max: BUCKET_COUNT - 1 });

describe('OrderIdGenerator', () => {
  it('when the clock jitters, stalls and steps back, then ids stay unique, carry their bucket and rise per bucket', () => {
    const burstArb = fc.record({
      clockStep: fc.integer({ min: -5, max: 3 }),
      buckets: fc.array(fc.oneof(bucketArb, fc.constantFrom(0, 1, 1023)), { minLength: 1, maxLength: 40 }),
    });
    fc.assert(fc.property(fc.array(burstArb, { minLength: 1, maxLength: 30 }), (bursts) => expectGeneratorInvariants(run(bursts))));
  });

  it('when one bucket is used, then every id is greater than the one before, whatever the clock does', () => {
    const burstArb = fc.record({
      clockStep: fc.integer({ min: -10, max: 2 }),
      buckets: fc.integer({ min: 1, max: 6000 }).map((n) => new Array<number>(n).fill(42)),
    });
    fc.assert(
      fc.property(fc.array(burstArb, { minLength: 1, maxLength: 4 }), (bursts) => {
        const values = run(bursts).map((m) => BigInt(m.id));
        expect(values.findIndex((v, i) => i > 0 && v <= values[i - 1]!)).toBe(-1);
      }),
      { numRuns: 15 },
    );
  });

  it('when more than 4096 ids are made in one millisecond, then the generator moves on to the next millisecond without duplicates', () => {
    const made = run([{ clockStep: 0, buckets: Array.from({ length: 10_000 }, (_, i) => i % 3) }]);
    expectGeneratorInvariants(made);
    const timestamps = new Set(made.map((m) => decodeOrderId(m.id).timestampMs));
    expect([...timestamps]).toEqual([START, START + 1, START + 2]);
  });

  it('when the clock goes backwards, then the last timestamp is kept until the clock passes it again', () => {
    let now = START + 100;
    const generator = new OrderIdGenerator(() => now);
    const first = decodeOrderId(generator.next(7));
    now = START;
    const second = decodeOrderId(generator.next(7));
    now = START + 101;
    const third = decodeOrderId(generator.next(7));
    expect([first, second, third]).toEqual([
      { timestampMs: START + 100, bucket: 7, sequence: 0 },
      { timestampMs: START + 100, bucket: 7, sequence: 1 },
      { timestampMs: START + 101, bucket: 7, sequence: 0 },
    ]);
  });

  it('when the clock moves on, then the new id sorts after every earlier id of any bucket', () => {
    let now = START;
    const generator = new OrderIdGenerator(() => now);
    const early = [generator.next(1023), generator.next(500)];
    now += 1;
    const late = generator.next(0);
    for (const id of early) expect(BigInt(late) > BigInt(id)).toBe(true);
  });

  it('when the bucket is invalid, then it throws and the next id is unaffected', () => {
    const generator = new OrderIdGenerator(() => START);
    const first = generator.next(3);
    expect(() => generator.next(1024)).toThrow(InvalidOrderIdError);
    expect(() => generator.next(1.5)).toThrow(InvalidOrderIdError);
    expect(decodeOrderId(generator.next(3)).sequence).toBe(decodeOrderId(first).sequence + 1);
  });

  it('when the clock reads before the id epoch, then it throws a RangeError', () => {
    expect(() => new OrderIdGenerator(() => ORDER_ID_EPOCH_MS - 1).next(0)).toThrow(RangeError);
    expect(() => new OrderIdGenerator(() => NaN).next(0)).toThrow(RangeError);
  });

  it('when no clock is given, then ids carry the current time', () => {
    const before = Date.now();
    const { timestampMs } = decodeOrderId(new OrderIdGenerator().next(0));
    expect(timestampMs).toBeGreaterThanOrEqual(before);
    expect(timestampMs).toBeLessThanOrEqual(Date.now());
  });
});
