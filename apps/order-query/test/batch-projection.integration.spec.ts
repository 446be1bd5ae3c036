import { orderEventSubject } from '@orderflow/messaging';
import { orderV1 } from '@orderflow/proto';
import { bucketForCustomer } from '@orderflow/sharding';
import type { Msg } from 'nats';
import type { ProjectionDecision } from '../src/domain/projection';
import { DEAD_LETTER_HEADERS } from '../src/infrastructure/nats/dead-letter.publisher';
import { actor, orderHistory, orderQueryRun, ReadShards, sleep, waitFor, withProject } from './support';

interface Batch {
  shard: number;
  events: { eventId: string; orderId: string; version: number }[];
  decisions: ProjectionDecision[];
}

/** Groups in flight at once in this suite (PROJECTION_CONCURRENCY). */
const CONCURRENCY = 4;

describe('order-query projecting bursts of events in batches (real MariaDB x2 and NATS JetStream)', () => {
  let shards: ReadShards;
  let deadLetters: Msg[];
  /**
   * Every projection transaction that committed, and the events of every one that failed (a failed
   * share of several events is then projected one event at a time: the fallback).
   */
  const batches: Batch[] = [];
  const failed: string[] = [];
  /** While closed, batches wait before their transaction: the groups in flight keep their slots. */
  const gate = { closed: undefined as Promise<void> | undefined, open: () => undefined as void, held: 0 };
  const blockers = new Set<string>();

  // Open before the service stops: batches held at the gate would keep it from stopping.
  afterAll(() => gate.open());
  // Pulls large enough for a whole burst: the consumer asks for more only as it reads its buffer.
  const run = orderQueryRun({ PROJECTION_CONCURRENCY: String(CONCURRENCY), PROJECTION_BATCH_SIZE: '512' }, () => ({
    decorateStore: (store) =>
      withProject(store, async (events, decide, at, attempts) => {
        if (gate.closed) {
          gate.held++;
          await gate.closed;
          gate.held--;
        }
        const decisions = await store.project(events, decide, at, attempts).catch((error: unknown) => {
          failed.push(...events.map((e) => e.eventId));
          throw error;
        });
        batches.push({
          shard: store.shardOf(events[0]!.orderId),
          events: events.map(({ eventId, orderId, version }) => ({ eventId, orderId, version })),
          decisions,
        });
        return decisions;
      }),
  }));

  beforeAll(() => {
    deadLetters = run.feed.deadLetters();
    shards = new ReadShards(run.config);
  });

  afterAll(() => shards?.close());

  beforeEach(() => {
    batches.length = 0;
    failed.length = 0;
  });

  const consumerInfo = async () => (await run.feed.nc.jetstreamManager()).consumers.info(run.config.nats.stream, run.config.nats.consumer);

  /**
   * Publishes while every slot is held by a group waiting at the gate, waits until the consumer has
   * received it all, then opens the gate: the events wait in the consumer's buffer and arrive together,
   * as they do when the projection falls behind.
   */
  async function publishAsBurst(publish: () => Promise<number>): Promise<void> {
    gate.closed = new Promise<void>((resolve) => (gate.open = () => resolve()));
    for (let i = 0; i < CONCURRENCY; i++) {
      const [blocker] = orderHistory(`blocker-${i}`, ['placed']);
      blockers.add(blocker!.eventId);
      await run.feed.publish(blocker!);
      await waitFor(async () => gate.held === i + 1, `group ${i + 1} held at the gate`);
    }
    const published = await publish();
    await waitFor(async () => {
      const info = await consumerInfo();
      return info.num_pending === 0 && info.num_ack_pending === CONCURRENCY + published;
    }, 'the burst delivered to the consumer');
    gate.closed = undefined;
    gate.open();
  }

  /** Every message in the stream delivered and acknowledged (or terminated): nothing pending, the ack floor at the end. */
  const fullyConsumed = () =>
    waitFor(async () => {
      const jsm = await run.feed.nc.jetstreamManager();
      const [stream, consumer] = await Promise.all([jsm.streams.info(run.config.nats.stream), consumerInfo()]);
      return consumer.num_pending === 0 && consumer.num_ack_pending === 0 && consumer.ack_floor.stream_seq === stream.state.last_seq;
    }, 'every message acknowledged');

  /** The batches of the burst, without the groups that held the slots. */
  const burstBatches = () => batches.filter((b) => !b.events.some((e) => blockers.has(e.eventId)));

  const views = async () =>
    (
      await shards.rows<{ order_id: string; status: string; version: number }>('SELECT CAST(order_id AS CHAR) AS order_id, status, version FROM order_views')
    ).map((rows, shard) => rows.map((row) => ({ ...row, shard, version: Number(row.version) })));
  const viewOf = async (orderId: string) => (await views()).flat().find((v) => v.order_id === orderId);
  const decisionsOf = (eventId: string) => batches.flatMap((b) => b.events.flatMap((e, i) => (e.eventId === eventId ? [b.decisions[i]] : [])));

  it('when a burst of versions 1 to 3 of many orders arrives at once, then every order ends at version 3, every message is acked, and the events shared transactions on every read shard', async () => {
    const histories = Array.from({ length: 80 }, (_, i) => orderHistory(`burst-${i}`, ['placed', 'paid', 'shipped']));
    const burstOrders = new Set(histories.map((events) => events[0]!.orderId));
    const applied = run.oq.app.stats.eventsApplied;
    // Interleaved across orders, as relays on several shards would publish them.
    await publishAsBurst(async () => {
      for (let version = 0; version < 3; version++) await run.feed.publishAll(histories.map((events) => events[version]!));
      return 240;
    });

    await waitFor(async () => (await views()).flat().filter((v) => burstOrders.has(v.order_id) && v.version === 3).length === 80, 'every order at version 3');
    await fullyConsumed();

    expect(run.oq.app.stats.eventsApplied - applied).toBe(240 + CONCURRENCY);
    const perShard = (await views()).map((rows) => rows.filter((v) => burstOrders.has(v.order_id)));
    expect(perShard.flat()).toHaveLength(80);
    expect(perShard.flat().every((v) => v.status === 'SHIPPED')).toBe(true);
    expect(perShard.map((rows) => rows.length).every((n) => n > 0)).toBe(true); // all four read shards
    const listing = (
      await shards.rows<{ n: number }>("SELECT COUNT(*) AS n FROM customer_orders WHERE customer_id LIKE 'burst-%' AND version = 3 AND status = 'SHIPPED'")
    ).flat();
    expect(listing.reduce((sum, row) => sum + Number(row.n), 0)).toBe(80);

    // Batched: groups of at most PROJECTION_BATCH_MAX (128), one transaction per shard's share, every shard used.
    const burst = burstBatches();
    expect(failed).toEqual([]);
    expect(burst.reduce((sum, b) => sum + b.events.length, 0)).toBe(240);
    const shardCount = run.config.shards.length;
    expect(burst.length).toBeLessThanOrEqual(shardCount * Math.ceil(240 / 128) + shardCount * CONCURRENCY);
    expect(Math.max(...burst.map((b) => b.events.length))).toBeGreaterThan(8);
    expect(Math.max(...burst.map((b) => b.events.length))).toBeLessThanOrEqual(128);
    expect(new Set(burst.map((b) => b.shard)).size).toBe(shardCount);
    for (const b of burst) expect(b.events.every((e) => run.oq.app.store.shardOf(e.orderId) === b.shard)).toBe(true);
  });

  it('when one group holds versions 1, 2 and 3 of an order, a repeat of version 1 and a version 3 whose version 2 is missing, then the chain applies, the repeat is a duplicate and the gap waits', async () => {
    const [a1, a2, a3] = orderHistory('gina', ['placed', 'paid', 'shipped']);
    const [b1, b2, b3] = orderHistory('hugo', ['placed', 'paid', 'shipped']);
    await run.feed.publish(b1!);
    await waitFor(async () => (await viewOf(b1!.orderId))?.version === 1, "hugo's order at version 1");
    await fullyConsumed();
    batches.length = 0;
    const applied = run.oq.app.stats.eventsApplied;

    await publishAsBurst(async () => {
      for (const event of [a1!, a2!, a3!]) await run.feed.publish(event);
      await run.feed.publish(a1!, `${a1!.eventId}-again`); // a re-send JetStream does not recognise
      await run.feed.publish(b3!);
      return 5;
    });
    await waitFor(async () => (await viewOf(a1!.orderId))?.version === 3, "gina's order at version 3");
    await waitFor(async () => decisionsOf(b3!.eventId).length > 0, 'version 3 of hugo decided');

    // Gina's four events were decided in one transaction, in arrival order.
    const gina = burstBatches().find((b) => b.events.some((e) => e.eventId === a1!.eventId))!;
    expect(gina.events.filter((e) => e.orderId === a1!.orderId).map((e) => e.version)).toEqual([1, 2, 3, 1]);
    expect(gina.decisions.filter((_, i) => gina.events[i]!.orderId === a1!.orderId)).toEqual(['insert', 'apply', 'apply', 'duplicate']);
    expect(decisionsOf(b3!.eventId)[0]).toBe('out-of-order');
    expect(failed).toEqual([]);
    expect((await run.oq.api.getOrder({ orderId: a1!.orderId, actor: actor('gina') })).order).toEqual(a3!.order);
    await sleep(300); // redelivered after its NAK delay, still out of order
    expect((await viewOf(b1!.orderId))?.version).toBe(1);

    await run.feed.publish(b2!);
    await waitFor(async () => (await viewOf(b1!.orderId))?.version === 3, "hugo's order at version 3 once version 2 came");
    await fullyConsumed();
    expect(run.oq.app.stats.eventsApplied - applied).toBe(5 + CONCURRENCY);
    expect(deadLetters).toEqual([]);
  });

  it('when poison messages are inside a burst, then they alone are dead-lettered and the other events apply', async () => {
    const deadBefore = run.oq.app.stats.eventsDeadLettered;
    const [owned] = orderHistory('iris', ['placed']);
    await run.feed.publish(owned!);
    await waitFor(async () => (await viewOf(owned!.orderId))?.version === 1, "iris's order projected");
    await fullyConsumed();
    // Another customer in the same bucket: the event is valid on its own, but the order is iris's.
    let thief = 'thief-0';
    for (let i = 1; bucketForCustomer(thief) !== bucketForCustomer('iris'); i++) thief = `thief-${i}`;
    const [, conflicting] = orderHistory(thief, ['placed', 'paid'], owned!.orderId);
    const [invalid] = orderHistory('jack', ['placed'], 'not-an-order-id');
    const histories = Array.from({ length: 12 }, (_, i) => orderHistory(`kate-${i}`, ['placed', 'paid']));
    const kates = new Set(histories.map((events) => events[0]!.orderId));
    const poison: number[] = [];

    await publishAsBurst(async () => {
      await run.feed.publishAll(histories.map((events) => events[0]!));
      poison.push((await run.feed.publishRaw(orderEventSubject('placed', run.config.nats.subjectPrefix), Uint8Array.of(0xff, 0xff, 0xff))).seq);
      poison.push((await run.feed.publish(invalid!)).seq);
      poison.push((await run.feed.publish(conflicting!)).seq);
      await run.feed.publishAll(histories.map((events) => events[1]!));
      return 27;
    });

    await waitFor(async () => deadLetters.length >= 3, 'three dead letters');
    await waitFor(async () => (await views()).flat().filter((v) => kates.has(v.order_id) && v.status === 'PAID').length === 12, 'the other orders paid');
    await fullyConsumed();

    const bySequence = new Map(deadLetters.map((msg) => [Number(msg.headers?.get(DEAD_LETTER_HEADERS.sequence)), msg]));
    expect([...bySequence.keys()].sort((a, b) => a - b)).toEqual(poison);
    expect(bySequence.get(poison[1]!)!.headers?.get(DEAD_LETTER_HEADERS.error)).toContain('is not an order id');
    expect(bySequence.get(poison[2]!)!.headers?.get(DEAD_LETTER_HEADERS.error)).toContain(
      `order ${owned!.orderId} is projected for another customer than ${thief}`,
    );
    expect(run.oq.app.stats.eventsDeadLettered - deadBefore).toBe(3);
    expect((await run.oq.api.getOrder({ orderId: owned!.orderId, actor: actor('iris') })).order).toMatchObject({
      customerId: 'iris',
      version: 1,
      status: orderV1.OrderStatus.ORDER_STATUS_RESERVED,
    });
    for (const events of histories) expect((await viewOf(events[0]!.orderId))?.version).toBe(2);
    expect(burstBatches().some((b) => b.events.length > 1)).toBe(true);
    expect(failed).toEqual([]);
  });
});
