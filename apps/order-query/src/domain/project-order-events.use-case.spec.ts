import { bucketForCustomer, decodeOrderId, OrderIdGenerator } from '@orderflow/sharding';
import { InvalidEventError, ReadShardMovingError } from './errors';
import type { OrderEvent, UncheckedOrderEvent } from './model';
import type { OrderViewStore } from './ports';
import { ALONE_ATTEMPTS, createProjectOrderEvents } from './project-order-events.use-case';
import { changesView, ProjectedState, ProjectionStats } from './projection';

const ids = new OrderIdGenerator();

function history(customerId: string, versions: number, orderId = ids.next(bucketForCustomer(customerId))): OrderEvent[] {
  const at = new Date('2026-01-01T00:00:00Z');
  return Array.from({ length: versions }, (_, i) => ({
    eventId: `${orderId}-v${i + 1}`,
    kind: i === 0 ? 'placed' : 'paid',
    orderId,
    customerId,
    version: i + 1,
    occurredAt: new Date(at.getTime() + i),
    order: {
      id: orderId,
      customerId,
      status: i === 0 ? 'RESERVED' : 'PAID',
      items: [],
      totalMinor: 100,
      address: 'A',
      paymentMethod: 'card',
      version: i + 1,
      createdAt: at,
      updatedAt: at,
      expiresAt: at,
    },
  }));
}

/** An in-memory store (two "shards" by the order id's parity): the batch rules here, the SQL against real servers. */
function harness() {
  const views = new Map<string, ProjectedState>();
  /** Every transaction: its events and the runs it was allowed. */
  const batches: string[][] = [];
  const attempts: number[] = [];
  /** Shards whose next transaction fails (once). */
  const failingShards = new Set<number>();
  /** Buckets being switched by a move: every transaction that writes one waits, then fails. */
  const movingBuckets = new Set<number>();
  const write = (event: OrderEvent) => views.set(event.orderId, { version: event.version, customerId: event.customerId });
  const store: OrderViewStore = {
    shardOf: (orderId) => Number(BigInt(orderId) % 2n),
    project: async (events, decide, _at, runs) => {
      batches.push(events.map((e) => e.eventId));
      attempts.push(runs);
      if (failingShards.delete(store.shardOf(events[0]!.orderId))) throw new Error('Deadlock found when trying to get lock');
      const moving = events.map((e) => decodeOrderId(e.orderId).bucket).find((bucket) => movingBuckets.has(bucket));
      if (moving !== undefined) {
        // As the MySQL store: a share of one bucket waits out the switch (then gives up), a share of several is refused at once.
        if (new Set(events.map((e) => decodeOrderId(e.orderId).bucket)).size > 1) throw new Error('orderflow fence: bucket not writable here');
        throw new ReadShardMovingError(moving, 5_000);
      }
      const decisions = decide(new Map(views));
      events.forEach((event, i) => changesView(decisions[i]!) && write(event));
      return decisions;
    },
    get: async () => undefined,
    listByCustomer: async () => [],
  };
  const stats = new ProjectionStats();
  const clock = { now: () => new Date('2026-01-01T00:00:05Z') };
  const fallbacks: number[] = [];
  const project = createProjectOrderEvents({ store, stats, clock, onFallback: (_, events) => fallbacks.push(events) });
  return { views, batches, attempts, failingShards, movingBuckets, stats, fallbacks, project };
}

const onShard = (shard: number, customerId: string) => {
  for (;;) {
    const events = history(customerId, 3);
    if (Number(BigInt(events[0]!.orderId) % 2n) === shard) return events;
  }
};

describe('projecting order events (one path: a single event is a batch of one)', () => {
  it('when a batch spans shards, then each shard gets one transaction with its events in arrival order, and results keep the batch order', async () => {
    const h = harness();
    const [a1, a2, a3] = onShard(0, 'alice');
    const [b1, b2] = onShard(1, 'bob');
    const results = await h.project([a1!, b1!, a2!, b2!, a3!]);

    expect(results).toEqual([{ decision: 'insert' }, { decision: 'insert' }, { decision: 'apply' }, { decision: 'apply' }, { decision: 'apply' }]);
    expect(h.batches).toEqual([
      [a1!.eventId, a2!.eventId, a3!.eventId],
      [b1!.eventId, b2!.eventId],
    ]);
    expect(h.attempts).toEqual([1, 1]); // a failed share falls back to its events alone, which retry
    expect(h.stats.eventsApplied).toBe(5);
    expect(h.stats.lastAppliedAt).toEqual(new Date('2026-01-01T00:00:05Z'));
  });

  it('when a batch holds a duplicate and an event missing its predecessor, then they are duplicate and out of order, neither counting as applied', async () => {
    const h = harness();
    const [a1, a2] = history('alice', 2);
    const [, , c3] = history('carol', 3);
    const results = await h.project([a1!, a2!, a1!, c3!]);

    expect(results.map((r) => r.decision)).toEqual(['insert', 'apply', 'duplicate', 'out-of-order']);
    expect(h.stats.eventsApplied).toBe(2);
  });

  it('when an event is invalid or its order is held for another customer, then it alone fails with InvalidEventError', async () => {
    const h = harness();
    const [a1, a2] = history('alice', 2);
    const [b1] = history('bob', 1);
    const [invalid] = history('dave', 1, 'not-an-order-id');
    h.views.set(a1!.orderId, { version: 1, customerId: 'zed' });
    const results = await h.project([invalid as UncheckedOrderEvent, a2!, b1!]);

    expect(results[0]!.error).toEqual(expect.objectContaining({ name: 'InvalidEventError', message: expect.stringContaining('is not an order id') }));
    expect(results[1]!.error).toEqual(new InvalidEventError(`order ${a1!.orderId} is projected for another customer than alice`));
    expect(results[2]).toEqual({ decision: 'insert' });
    expect(h.stats.eventsApplied).toBe(1);
  });

  it("when a shard's transaction fails, then its events are projected one by one with the same decisions, and the other shard is untouched", async () => {
    const h = harness();
    const [a1, a2, a3] = onShard(0, 'alice');
    const [b1] = onShard(1, 'bob');
    h.failingShards.add(0);
    const results = await h.project([a1!, a3!, b1!, a2!]);

    expect(results.map((r) => r.decision)).toEqual(['insert', 'out-of-order', 'insert', 'apply']);
    expect(h.fallbacks).toEqual([3]);
    expect(h.batches.filter((b) => b.length === 1 && b[0] !== b1!.eventId)).toEqual([[a1!.eventId], [a3!.eventId], [a2!.eventId]]);
    expect(h.views.get(a1!.orderId)).toEqual({ version: 2, customerId: 'alice' });
    expect(h.stats.eventsApplied).toBe(3);
  });

  it('when a shard has a single event, then it is a batch of one that may run ALONE_ATTEMPTS times, with no fallback', async () => {
    const h = harness();
    const [a1] = history('alice', 1);
    const results = await h.project([a1!]);

    expect(results).toEqual([{ decision: 'insert' }]);
    expect(h.batches).toEqual([[a1!.eventId]]);
    expect(h.attempts).toEqual([ALONE_ATTEMPTS]);
    expect(h.fallbacks).toEqual([]);
  });

  it("when a lone event's transaction fails, then that event alone gets the error and the other shard's event still applies", async () => {
    const h = harness();
    const [a1] = onShard(0, 'alice');
    const [b1] = onShard(1, 'bob');
    h.failingShards.add(0);
    const results = await h.project([a1!, b1!]);

    expect(results[0]!.error).toEqual(new Error('Deadlock found when trying to get lock'));
    expect(results[1]).toEqual({ decision: 'insert' });
    expect(h.stats.eventsApplied).toBe(1);
  });

  it("when a bucket's read shard is being switched, then its events fail with ReadShardMovingError after one wait, and the share's other events still apply", async () => {
    const h = harness();
    const [a1, a2, a3] = onShard(0, 'alice');
    let other: OrderEvent[];
    do other = onShard(0, `carol-${Math.random()}`);
    while (decodeOrderId(other[0]!.orderId).bucket === decodeOrderId(a1!.orderId).bucket);
    const [c1] = other;
    h.movingBuckets.add(decodeOrderId(a1!.orderId).bucket);

    const results = await h.project([a1!, c1!, a2!, a3!]);
    expect(results[1]).toEqual({ decision: 'insert' });
    for (const i of [0, 2, 3]) expect(results[i]!.error).toBeInstanceOf(ReadShardMovingError);
    // The share together, then a1 alone (it waited), then c1 alone; a2 and a3 are not tried: they would only wait again.
    expect(h.batches).toEqual([[a1!.eventId, c1!.eventId, a2!.eventId, a3!.eventId], [a1!.eventId], [c1!.eventId]]);
  });

  it("when a share of one bucket is being switched, then its events all fail with the share's ReadShardMovingError without waiting again one by one", async () => {
    const h = harness();
    const events = onShard(1, 'dave');
    h.movingBuckets.add(decodeOrderId(events[0]!.orderId).bucket);
    const results = await h.project(events);
    expect(results.every((r) => r.error instanceof ReadShardMovingError)).toBe(true);
    expect(h.batches).toHaveLength(1);
  });
});
