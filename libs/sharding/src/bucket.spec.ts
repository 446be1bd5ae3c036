import fc from 'fast-check';
import { bucketForCustomer, murmur3_32 } from './bucket';
import { BUCKET_COUNT } from './order-id';
import { evenShardMap } from './shard-map';

const utf8 = new TextEncoder();
const SAMPLE = 100_000;

/** Random v4-shaped uuids from a fixed seed: the bounds below are loose enough not to fail by chance, and the seed makes sure. */
function seededUuids(count: number, seed: number): string[] {
  let state = seed >>> 0;
  // mulberry32: tiny, fast and plenty random for test data.
  const next32 = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const hex = (n: number, digits: number) => n.toString(16).padStart(8, '0').slice(0, digits);
  return Array.from({ length: count }, () => {
    const [a, b, c, d] = [next32(), next32(), next32(), next32()];
    return `${hex(a, 8)}-${hex(b, 4)}-4${hex(b >>> 16, 3)}-${(8 + (c & 3)).toString(16)}${hex(c >>> 2, 3)}-${hex(d, 8)}${hex(c >>> 14, 4)}`;
  });
}

const uuids = seededUuids(SAMPLE, 20250101);
const sequential = Array.from({ length: SAMPLE }, (_, i) => `customer-${i}`);

/** Any code points, lone surrogates included (fast-check's 'binary' unit does the same but is slow under Jest). */
const anyText = fc.oneof(fc.string(), fc.string({ unit: fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) }));

function countsOf(ids: readonly string[], bucketOf: (id: string) => number, size: number): number[] {
  const counts = new Array<number>(size).fill(0);
  for (const id of ids) counts[bucketOf(id)]! += 1;
  return counts;
}

function chiSquare(counts: readonly number[], total: number): number {
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

describe('bucketForCustomer', () => {
  it('when the hash is computed, then it matches the published MurmurHash3 x86_32 vectors', () => {
    const vectors: [string, number, number][] = [
      ['', 0, 0],
      ['', 1, 0x514e28b7],
      ['', 0xffffffff, 0x81f16f39],
      ['test', 0, 0xba6bd213],
      ['Hello, world!', 0, 0xc0363e43],
      ['Hello, world!', 0x9747b28c, 0x24884cba],
      ['aaaa', 0x9747b28c, 0x5a97808a],
      ['ππππππππ', 0x9747b28c, 0xd58063c1],
      ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
    ];
    for (const [text, seed, hash] of vectors) expect(murmur3_32(utf8.encode(text), seed)).toBe(hash);
  });

  it('when known customers are bucketed, then their buckets never change (stored ids depend on them)', () => {
    const ids = ['customer-1', 'alice', '3f2b8c1e-1d2a-4c5b-9e8f-7a6b5c4d3e2f', 'Zoë'];
    expect(ids.map((id) => bucketForCustomer(id))).toEqual([676, 733, 599, 282]);
    expect(bucketForCustomer('test')).toBe(0xba6bd213 % 1024);
  });

  it('when the same customer is bucketed twice, then the bucket is the same and within range', () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 1, max: 4096 }), (id, count) => {
        const bucket = bucketForCustomer(id, count);
        return bucketForCustomer(id, count) === bucket && Number.isInteger(bucket) && bucket >= 0 && bucket < count;
      }),
    );
  });

  // 1023 degrees of freedom: mean 1023, sd 45. 1400 is 8 sd out (p < 1e-12). Each bucket expects 97.7
  // with sd 9.9; 40..160 is about 6 sd either side (p < 1e-6 over all 1024 buckets).
  it.each([
    ['random uuids', uuids],
    ['sequential ids', sequential],
  ])('when 100,000 %s are bucketed, then they spread evenly over 1024 buckets', (_, ids) => {
    const counts = countsOf(ids, (id) => bucketForCustomer(id), BUCKET_COUNT);
    expect(chiSquare(counts, SAMPLE)).toBeLessThan(1400);
    expect(Math.min(...counts)).toBeGreaterThan(40);
    expect(Math.max(...counts)).toBeLessThan(160);
  });

  it.each([
    ['random uuids', uuids],
    ['sequential ids', sequential],
  ])('when 100,000 %s are routed over 2 shards, then each holds 50% +- 2%', (_, ids) => {
    const map = evenShardMap(2);
    const counts = countsOf(ids, (id) => map.shardForBucket(bucketForCustomer(id)), 2);
    for (const count of counts) expect(Math.abs(count / SAMPLE - 0.5)).toBeLessThan(0.02);
  });

  it('when the input is not a string or the bucket count is invalid, then it throws', () => {
    expect(() => bucketForCustomer(42 as unknown as string)).toThrow(TypeError);
    expect(() => bucketForCustomer('a', 0)).toThrow(RangeError);
    expect(() => bucketForCustomer('a', 1.5)).toThrow(RangeError);
  });
});
