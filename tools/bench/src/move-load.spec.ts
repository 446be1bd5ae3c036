import type { Operation } from '@orderflow/chaos';
import { bucketForCustomer, encodeOrderId } from '@orderflow/sharding';
import { classFigures, createdOrders, customersWhere, formatSummary, inSpan, LoadSample, placement, samplesOf, summarize, windowsEvery } from './move-load';

/** Two customers, one in buckets 0-99 (the moving span below) and one outside it. */
const [inside] = customersWhere('spec-', 1, (b) => b < 100);
const [outside] = customersWhere('spec-', 1, (b) => b >= 100);
const moving = inSpan({ from: 0, to: 99 });

const attempt = (sentAt: number, latency: number, answer: { status?: number; error?: string; orderId?: string }, retry = false) => ({
  sentAt,
  endedAt: sentAt + latency,
  retry,
  ...answer,
});

describe('customersWhere', () => {
  it('when customers are wanted in a bucket span, then each one found hashes into it, in a fixed order', () => {
    const ids = customersWhere('run-x-', 20, inSpan({ from: 500, to: 509 }));
    expect(ids).toHaveLength(20);
    for (const id of ids) expect(bucketForCustomer(id)).toBeGreaterThanOrEqual(500);
    for (const id of ids) expect(bucketForCustomer(id)).toBeLessThanOrEqual(509);
    expect(customersWhere('run-x-', 20, inSpan({ from: 500, to: 509 }))).toEqual(ids);
  });

  it('when no bucket can match, then it gives up with a message instead of looping', () => {
    expect(() => customersWhere('run-x-', 1, () => false, 4)).toThrow('no 1 customers found for the buckets wanted');
  });
});

describe('samplesOf', () => {
  it('when operations are read, then each gives one sample from its first attempt, tagged with its bucket and class; retries are not load', () => {
    const operations: Operation[] = [
      {
        kind: 'place',
        customer: inside!,
        key: 'k1',
        body: {},
        attempts: [attempt(1_000, 20, { status: 503 }), attempt(9_000, 5, { status: 201, orderId: 'o1' }, true)],
      },
      { kind: 'place', customer: outside!, key: 'k2', body: {}, attempts: [attempt(1_100, 8, { status: 201, orderId: 'o2' })] },
      { kind: 'pay', customer: outside!, key: 'k3', orderId: 'o2', attempts: [attempt(1_200, 4, { status: 200, orderId: 'o2' })] },
      { kind: 'cancel', customer: inside!, key: 'k4', orderId: 'o1', attempts: [] },
    ];
    expect(samplesOf(operations, moving)).toEqual([
      {
        kind: 'place',
        customer: inside,
        bucket: bucketForCustomer(inside!),
        moving: true,
        sentAt: 1_000,
        latencyMs: 20,
        status: 503,
        error: undefined,
        orderId: undefined,
      },
      {
        kind: 'place',
        customer: outside,
        bucket: bucketForCustomer(outside!),
        moving: false,
        sentAt: 1_100,
        latencyMs: 8,
        status: 201,
        error: undefined,
        orderId: 'o2',
      },
      {
        kind: 'pay',
        customer: outside,
        bucket: bucketForCustomer(outside!),
        moving: false,
        sentAt: 1_200,
        latencyMs: 4,
        status: 200,
        error: undefined,
        orderId: undefined,
      },
    ]);
  });
});

describe('classFigures and summarize', () => {
  const sample = (sentAt: number, latencyMs: number, isMoving: boolean, answer: Partial<LoadSample> = { status: 201 }): LoadSample => ({
    kind: 'place',
    customer: isMoving ? inside! : outside!,
    bucket: 0,
    moving: isMoving,
    sentAt,
    latencyMs,
    ...answer,
  });

  it('when latencies 1..100 ms are summed over 2 s, then p50 and p99 are nearest-rank, orders/s counts only 201 placements, and 5xx and transport errors are counted apart', () => {
    const samples = [
      ...Array.from({ length: 97 }, (_, i) => sample(0, i + 1, false)),
      sample(0, 98, false, { status: 503 }),
      sample(0, 99, false, { error: 'timeout', status: undefined }),
      sample(0, 100, false, { kind: 'pay', status: 200 }),
    ];
    expect(classFigures(samples, 2)).toEqual({
      requests: 100,
      created: 97,
      ordersPerSecond: 48.5,
      p50Ms: 50,
      p99Ms: 99,
      maxMs: 100,
      server5xx: 1,
      transportErrors: 1,
    });
    expect(classFigures([], 0)).toEqual({ requests: 0, created: 0, ordersPerSecond: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, server5xx: 0, transportErrors: 0 });
  });

  it('when samples fall in and around windows, then each counts in the window it was sent in (start included, end not), split by bucket class', () => {
    const samples = [
      sample(999, 1, true), // before every window
      sample(1_000, 10, true),
      sample(1_500, 30, true, { status: 503 }),
      sample(1_999, 5, false),
      sample(2_000, 400, true), // the second window's first
      sample(2_100, 7, false),
      sample(3_000, 1, false), // after every window
    ];
    const [first, second] = summarize(samples, [
      { name: 'before', from: 1_000, to: 2_000 },
      { name: 'during', from: 2_000, to: 3_000 },
    ]);
    expect(first).toMatchObject({
      window: 'before',
      seconds: 1,
      all: { requests: 3, created: 2, server5xx: 1 },
      moving: { requests: 2, created: 1, ordersPerSecond: 1, p50Ms: 10, p99Ms: 30, server5xx: 1 },
      notMoving: { requests: 1, created: 1, p99Ms: 5, server5xx: 0 },
    });
    expect(second).toMatchObject({
      window: 'during',
      moving: { requests: 1, created: 1, p50Ms: 400, p99Ms: 400 },
      notMoving: { requests: 1, created: 1, p99Ms: 7 },
    });
  });

  it('when a span is cut into windows, then they are contiguous, the last one shorter, named by their offset', () => {
    expect(windowsEvery(10_000, 12_500, 1_000)).toEqual([
      { name: '+0.0s', from: 10_000, to: 11_000 },
      { name: '+1.0s', from: 11_000, to: 12_000 },
      { name: '+2.0s', from: 12_000, to: 12_500 },
    ]);
    expect(() => windowsEvery(0, 1, 0)).toThrow('a window must last more than 0 ms');
  });

  it('when summaries are formatted, then each window has a line per bucket class with orders/s, p50, p99, 5xx and errors', () => {
    const lines = formatSummary(summarize([sample(0, 12, true), sample(0, 3, false, { status: 500 })], [{ name: 'during', from: 0, to: 1_000 }]));
    expect(lines).toEqual([
      'window     buckets       orders        p50        p99   5xx  errors',
      'during     moving           1/s    12.0 ms    12.0 ms     0       0',
      '           not moving       0/s     3.0 ms     3.0 ms     1       0',
    ]);
  });
});

describe('createdOrders', () => {
  it('when placements were answered 201, retried or replayed, then each order is listed once with its customer, bucket and key; other answers are not', () => {
    const operations: Operation[] = [
      {
        kind: 'place',
        customer: inside!,
        key: 'k1',
        body: {},
        attempts: [
          attempt(1, 1, { error: 'timeout' }),
          attempt(5, 1, { status: 201, orderId: 'o1' }, true),
          attempt(9, 1, { status: 201, orderId: 'o1' }, true),
        ],
      },
      { kind: 'place', customer: outside!, key: 'k2', body: {}, attempts: [attempt(2, 1, { status: 409 })] },
      { kind: 'place', customer: outside!, key: 'k3', body: {}, attempts: [attempt(3, 1, { status: 201, orderId: 'o3' })] },
      { kind: 'pay', customer: outside!, key: 'k4', orderId: 'o3', attempts: [attempt(4, 1, { status: 200, orderId: 'o3' })] },
    ];
    expect(createdOrders(operations)).toEqual([
      { orderId: 'o1', customer: inside, bucket: bucketForCustomer(inside!), key: 'k1' },
      { orderId: 'o3', customer: outside, bucket: bucketForCustomer(outside!), key: 'k3' },
    ]);
  });
});

describe('placement', () => {
  // Ids that carry buckets 10 and 900; the map sends buckets below 512 to shard 0, the rest to shard 1 (a move made it 2).
  const id = (bucket: number, sequence: number) => encodeOrderId({ timestampMs: Date.UTC(2026, 0, 1), bucket, sequence });
  const low = id(10, 1);
  const high = id(900, 2);
  const order = (orderId: string) => ({ orderId, customer: 'c', bucket: 0, key: orderId });
  const shardOf = (bucket: number) => (bucket < 512 ? 0 : 2);

  it('when each order is on the shard its id bucket maps to, and one is still on its old shard, then none is missing and the copy is named', () => {
    expect(placement([order(low), order(high)], shardOf, [new Set([low]), new Set([high]), new Set([high])])).toEqual({
      orders: 2,
      onOwner: 2,
      missing: [],
      elsewhere: [high],
    });
  });

  it('when an order is only on a shard its bucket does not map to, or nowhere, then it is missing', () => {
    expect(placement([order(low), order(high)], shardOf, [new Set(), new Set([high]), new Set()])).toEqual({
      orders: 2,
      onOwner: 0,
      missing: [low, high],
      elsewhere: [high],
    });
  });
});
