import { orderEventSubject } from '@orderflow/messaging';
import { orderV1 } from '@orderflow/proto';
import type { Msg } from 'nats';
import { DEAD_LETTER_HEADERS } from '../src/infrastructure/nats/dead-letter.publisher';
import { actor, caughtUp, orderHistory, orderQueryRun, ReadShards, sleep, waitFor, withProject } from './support';

const S = orderV1.OrderStatus;

interface ViewRow {
  order_id: string;
  status: string;
  total_minor: number;
  version: number;
  last_event_id: string;
  projected_at: Date;
}

describe('order-query projecting the ORDERS stream (real MariaDB x2 and NATS JetStream)', () => {
  let shards: ReadShards;
  let deadLetters: Msg[];
  /** Event ids whose projection "crashes" once after its commit, before the ack: JetStream redelivers them. */
  const crashAfterCommit = new Set<string>();
  const run = orderQueryRun({}, () => ({
    decorateStore: (store) =>
      withProject(store, async (events, decide, at, attempts) => {
        const decisions = await store.project(events, decide, at, attempts);
        if (events.filter((event) => crashAfterCommit.delete(event.eventId)).length > 0) throw new Error('simulated crash between commit and ack');
        return decisions;
      }),
  }));

  beforeAll(() => {
    deadLetters = run.feed.deadLetters();
    shards = new ReadShards(run.config);
  });

  afterAll(() => shards?.close());

  const viewRows = async (orderId: string) =>
    (
      await shards.rows<ViewRow>(
        'SELECT CAST(order_id AS CHAR) AS order_id, status, total_minor, version, last_event_id, projected_at ' +
          'FROM order_views WHERE order_id = CAST(:id AS UNSIGNED)',
        { id: orderId },
      )
    ).flat();
  const listingRows = async (orderId: string) =>
    (
      await shards.rows<{ status: string; total_minor: number; version: number }>(
        `SELECT status, total_minor, version FROM customer_orders WHERE order_id = CAST(:id AS UNSIGNED)`,
        { id: orderId },
      )
    ).flat();
  const projectedVersion = (orderId: string, customerId: string, version: number) =>
    waitFor(async () => {
      const { order } = await run.oq.api.getOrder({ orderId, actor: actor(customerId) });
      return order!.version >= version && order;
    }, `order ${orderId} at version ${version}`);

  it("when an order's events arrive in order, then its view and its listing row hold the last event's status, total and items", async () => {
    const events = orderHistory('pia', ['placed', 'paid', 'shipped']);
    for (const event of events) await run.feed.publish(event);
    const order = await projectedVersion(events[0]!.orderId, 'pia', 3);

    const last = events[2]!.order!;
    expect(order).toEqual(last);
    const { orders } = await run.oq.api.listOrders({ customerId: 'pia' });
    expect(orders).toEqual([last]);
    expect(await listingRows(last.id)).toEqual([{ status: 'SHIPPED', total_minor: 4_499, version: 3 }]);
    expect(await viewRows(last.id)).toEqual([expect.objectContaining({ status: 'SHIPPED', version: 3, last_event_id: events[2]!.eventId })]);
  });

  it('when events are published again under new message ids, then nothing changes and nothing counts as applied', async () => {
    const events = orderHistory('quinn', ['placed', 'paid']);
    for (const event of events) await run.feed.publish(event);
    const orderId = events[0]!.orderId;
    await projectedVersion(orderId, 'quinn', 2);
    await caughtUp(run.oq.api);
    const before = await viewRows(orderId);
    const applied = run.oq.app.stats.eventsApplied;

    expect((await run.feed.publish(events[1]!)).duplicate).toBe(true); // same message id: JetStream drops it
    for (const event of [...events, ...events]) await run.feed.publish(event, `${event.eventId}-again-${Math.random()}`);
    await caughtUp(run.oq.api);

    expect(run.oq.app.stats.eventsApplied).toBe(applied);
    expect(await viewRows(orderId)).toEqual(before);
    expect((await run.oq.api.getOrder({ orderId, actor: actor('quinn') })).order).toMatchObject({ status: S.ORDER_STATUS_PAID, version: 2 });
  });

  it('when an applied event is redelivered because its ack never came, then it changes nothing and is applied once', async () => {
    const [placed, paid] = orderHistory('rosa', ['placed', 'paid']);
    crashAfterCommit.add(paid!.eventId);
    const applied = run.oq.app.stats.eventsApplied;
    await run.feed.publish(placed!);
    await projectedVersion(placed!.orderId, 'rosa', 1); // apart: only the paid event's group crashes
    await run.feed.publish(paid!);
    await projectedVersion(paid!.orderId, 'rosa', 2);
    const firstProjection = await viewRows(paid!.orderId);
    await caughtUp(run.oq.api);

    expect(crashAfterCommit.has(paid!.eventId)).toBe(false); // the crash happened, and the redelivery was acked
    // The crashed delivery committed but never counted; the redelivery found version 2 stored: a duplicate.
    expect(run.oq.app.stats.eventsApplied - applied).toBe(1);
    expect(await run.oq.api.getOrder({ orderId: paid!.orderId, actor: actor('rosa') })).toEqual({ order: paid!.order });
    expect(await viewRows(paid!.orderId)).toEqual(firstProjection);
  });

  it('when versions 3 and 2 arrive before version 1, then the view converges to version 3', async () => {
    const events = orderHistory('sam', ['placed', 'paid', 'shipped']);
    await run.feed.publish(events[2]!);
    await run.feed.publish(events[1]!);
    await sleep(150);
    expect(await viewRows(events[0]!.orderId)).toEqual([]);
    await run.feed.publish(events[0]!);

    expect(await projectedVersion(events[0]!.orderId, 'sam', 3)).toEqual(events[2]!.order);
    await caughtUp(run.oq.api);
    expect(await listingRows(events[0]!.orderId)).toEqual([{ status: 'SHIPPED', total_minor: 4_499, version: 3 }]);
  });

  it('when garbage bytes and an event with an invalid order id arrive, then both are dead-lettered and counted, and later events still apply', async () => {
    const deadBefore = (await run.oq.api.getProjectionLag({})).eventsDeadLettered;
    const garbageSubject = orderEventSubject('placed', run.config.nats.subjectPrefix);
    const garbage = await run.feed.publishRaw(garbageSubject, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    const [invalid] = orderHistory('tom', ['placed'], 'not-an-order-id');
    const invalidAck = await run.feed.publish(invalid!);
    const [fine] = orderHistory('tom', ['placed']);
    await run.feed.publish(fine!);

    await projectedVersion(fine!.orderId, 'tom', 1);
    await waitFor(async () => deadLetters.length >= 2, 'two dead letters');
    await caughtUp(run.oq.api);

    const bySequence = new Map(deadLetters.map((msg) => [Number(msg.headers?.get(DEAD_LETTER_HEADERS.sequence)), msg]));
    expect([...bySequence.keys()].sort((a, b) => a - b)).toEqual([garbage.seq, invalidAck.seq]);
    const garbageLetter = bySequence.get(garbage.seq)!;
    expect(Buffer.from(garbageLetter.data)).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(garbageLetter.headers?.get(DEAD_LETTER_HEADERS.subject)).toBe(garbageSubject);
    expect(garbageLetter.headers?.get(DEAD_LETTER_HEADERS.error)).toContain('not an orderflow.order.v1.OrderEvent');
    const invalidLetter = bySequence.get(invalidAck.seq)!;
    expect(invalidLetter.headers?.get(DEAD_LETTER_HEADERS.error)).toContain('is not an order id');
    expect(invalidLetter.headers?.get(DEAD_LETTER_HEADERS.messageId)).toBe(invalid!.eventId);
    expect(orderV1.OrderEvent.decode(invalidLetter.data).eventId).toBe(invalid!.eventId);

    expect((await run.oq.api.getProjectionLag({})).eventsDeadLettered - deadBefore).toBe(2);
    const jsm = await run.feed.nc.jetstreamManager();
    expect((await jsm.streams.info(run.config.nats.deadLetterStream)).state.messages).toBe(2);
  });

  it('when caught up, then the lag is 0; while the consumer is stopped and events wait, then the lag counts them and their age', async () => {
    const caught = await caughtUp(run.oq.api);
    expect(caught).toMatchObject({ eventsBehind: 0, secondsBehind: 0 });
    expect(caught.eventsApplied).toBeGreaterThan(0);
    expect(caught.lastAppliedAt!.getTime()).toBeLessThanOrEqual(Date.now());

    await run.oq.app.consumer.stop();
    const events = orderHistory('uma', ['placed', 'paid', 'cancelled']);
    for (const event of events) await run.feed.publish(event);
    await sleep(300);
    const behind = await run.oq.api.getProjectionLag({});
    expect(behind.eventsBehind).toBe(3);
    expect(behind.secondsBehind).toBeGreaterThanOrEqual(0.25);
    expect(behind.secondsBehind).toBeLessThan(30);

    await run.oq.app.consumer.start();
    await projectedVersion(events[0]!.orderId, 'uma', 3);
    expect(await caughtUp(run.oq.api)).toMatchObject({ eventsBehind: 0, secondsBehind: 0 });
  });
});

describe('order-query when an event keeps failing (MAX_DELIVER 3)', () => {
  let deadLetters: Msg[];
  /** Orders whose shard "is down": every projection of them fails as a lost connection would. */
  const unreachable = new Set<string>();
  const run = orderQueryRun({ MAX_DELIVER: '3', REDELIVERY_DELAY_MS: '20' }, () => ({
    decorateStore: (store) =>
      withProject(store, async (events, decide, at, attempts) => {
        if (events.some((event) => unreachable.has(event.orderId))) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return store.project(events, decide, at, attempts);
      }),
  }));

  beforeAll(() => {
    deadLetters = run.feed.deadLetters();
  });

  it('when a transient failure outlasts every delivery, or a missing version never comes, then the event is dead-lettered on its last delivery', async () => {
    const [down] = orderHistory('val', ['placed']);
    unreachable.add(down!.orderId);
    const [, orphan] = orderHistory('val', ['placed', 'paid']);
    const downAck = await run.feed.publish(down!);
    const orphanAck = await run.feed.publish(orphan!);

    await waitFor(async () => deadLetters.length >= 2, 'two dead letters');
    const bySequence = new Map(deadLetters.map((msg) => [Number(msg.headers?.get(DEAD_LETTER_HEADERS.sequence)), msg]));
    const downLetter = bySequence.get(downAck.seq)!;
    expect(downLetter.headers?.get(DEAD_LETTER_HEADERS.deliveries)).toBe('3');
    expect(downLetter.headers?.get(DEAD_LETTER_HEADERS.error)).toContain('failed on all 3 deliveries, last: connect ECONNREFUSED');
    const orphanLetter = bySequence.get(orphanAck.seq)!;
    expect(orphanLetter.headers?.get(DEAD_LETTER_HEADERS.error)).toContain(`version 2 of order ${orphan!.orderId} never became the next version`);
    expect(await caughtUp(run.oq.api)).toMatchObject({ eventsBehind: 0, eventsDeadLettered: 2, eventsApplied: 0 });
  });
});
