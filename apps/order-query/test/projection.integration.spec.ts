import { orderEventSubject } from '@orderflow/messaging';
import { orderV1 } from '@orderflow/proto';
import type { Msg, Subscription } from 'nats';
import type { OrderQueryConfig } from '../src/config';
import type { OrderViewStore } from '../src/domain/ports';
import { DEAD_LETTER_HEADERS } from '../src/infrastructure/nats/dead-letter.publisher';
import { actor, caughtUp, cleanUp, EventFeed, orderHistory, queryConfig, ReadShards, RunningOrderQuery, sleep, startOrderQuery, waitFor } from './support';

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
  let config: OrderQueryConfig;
  let feed: EventFeed;
  let oq: RunningOrderQuery;
  let shards: ReadShards;
  let deadLetters: Msg[];
  let deadLetterSubscription: Subscription;
  /** Event ids whose projection "crashes" once after its commit, before the ack: JetStream redelivers them. */
  const crashAfterCommit = new Set<string>();

  beforeAll(async () => {
    config = queryConfig();
    feed = await EventFeed.open(config);
    deadLetters = [];
    deadLetterSubscription = feed.nc.subscribe(config.nats.deadLetterSubject, { callback: (error, msg) => !error && deadLetters.push(msg) });
    const decorateStore = (store: OrderViewStore): OrderViewStore => ({
      get: (id) => store.get(id),
      listByCustomer: (...args) => store.listByCustomer(...args),
      shardOf: (id) => store.shardOf(id),
      project: async (events, decide, at, attempts) => {
        const decisions = await store.project(events, decide, at, attempts);
        if (events.filter((event) => crashAfterCommit.delete(event.eventId)).length > 0) throw new Error('simulated crash between commit and ack');
        return decisions;
      },
    });
    oq = await startOrderQuery(config, { decorateStore });
    shards = new ReadShards(config);
  });

  afterAll(async () => {
    await oq?.stop();
    deadLetterSubscription?.unsubscribe();
    await feed?.close();
    await shards?.close();
    if (config) await cleanUp(config);
  });

  const viewRows = async (orderId: string) =>
    (
      await shards.rows<ViewRow>(
        `SELECT CAST(order_id AS CHAR) AS order_id, status, total_minor, version, last_event_id, projected_at FROM order_views WHERE order_id = CAST(:id AS UNSIGNED)`,
        { id: orderId },
      )
    ).flat();
  const listingRows = async (orderId: string) =>
    (await shards.rows<{ status: string; total_minor: number; version: number }>(`SELECT status, total_minor, version FROM customer_orders WHERE order_id = CAST(:id AS UNSIGNED)`, { id: orderId })).flat();
  const projectedVersion = (orderId: string, customerId: string, version: number) =>
    waitFor(async () => {
      const { order } = await oq.api.getOrder({ orderId, actor: actor(customerId) });
      return order!.version >= version && order;
    }, `order ${orderId} at version ${version}`);

  it("when an order's events arrive in order, then its view and its listing row hold the last event's status, total and items", async () => {
    const events = orderHistory('pia', ['placed', 'paid', 'shipped']);
    for (const event of events) await feed.publish(event);
    const order = await projectedVersion(events[0]!.orderId, 'pia', 3);

    const last = events[2]!.order!;
    expect(order).toEqual(last);
    const { orders } = await oq.api.listOrders({ customerId: 'pia' });
    expect(orders).toEqual([last]);
    expect(await listingRows(last.id)).toEqual([{ status: 'SHIPPED', total_minor: 4_499, version: 3 }]);
    expect(await viewRows(last.id)).toEqual([expect.objectContaining({ status: 'SHIPPED', version: 3, last_event_id: events[2]!.eventId })]);
  });

  it('when events are published again under new message ids, then nothing changes and nothing counts as applied', async () => {
    const events = orderHistory('quinn', ['placed', 'paid']);
    for (const event of events) await feed.publish(event);
    const orderId = events[0]!.orderId;
    await projectedVersion(orderId, 'quinn', 2);
    await caughtUp(oq.api);
    const before = await viewRows(orderId);
    const applied = oq.app.stats.eventsApplied;

    expect((await feed.publish(events[1]!)).duplicate).toBe(true); // same message id: JetStream drops it
    for (const event of [...events, ...events]) await feed.publish(event, `${event.eventId}-again-${Math.random()}`);
    await caughtUp(oq.api);

    expect(oq.app.stats.eventsApplied).toBe(applied);
    expect(await viewRows(orderId)).toEqual(before);
    expect((await oq.api.getOrder({ orderId, actor: actor('quinn') })).order).toMatchObject({ status: S.ORDER_STATUS_PAID, version: 2 });
  });

  it('when an applied event is redelivered because its ack never came, then it changes nothing and is applied once', async () => {
    const [placed, paid] = orderHistory('rosa', ['placed', 'paid']);
    crashAfterCommit.add(paid!.eventId);
    const applied = oq.app.stats.eventsApplied;
    await feed.publish(placed!);
    await projectedVersion(placed!.orderId, 'rosa', 1); // apart: only the paid event's group crashes
    await feed.publish(paid!);
    await projectedVersion(paid!.orderId, 'rosa', 2);
    const firstProjection = await viewRows(paid!.orderId);
    await caughtUp(oq.api);

    expect(crashAfterCommit.has(paid!.eventId)).toBe(false); // the crash happened, and the redelivery was acked
    // The crashed delivery committed but never counted; the redelivery found version 2 stored: a duplicate.
    expect(oq.app.stats.eventsApplied - applied).toBe(1);
    expect(await oq.api.getOrder({ orderId: paid!.orderId, actor: actor('rosa') })).toEqual({ order: paid!.order });
    expect(await viewRows(paid!.orderId)).toEqual(firstProjection);
  });

  it('when versions 3 and 2 arrive before version 1, then the view converges to version 3', async () => {
    const events = orderHistory('sam', ['placed', 'paid', 'shipped']);
    await feed.publish(events[2]!);
    await feed.publish(events[1]!);
    await sleep(150);
    expect(await viewRows(events[0]!.orderId)).toEqual([]);
    await feed.publish(events[0]!);

    expect(await projectedVersion(events[0]!.orderId, 'sam', 3)).toEqual(events[2]!.order);
    await caughtUp(oq.api);
    expect(await listingRows(events[0]!.orderId)).toEqual([{ status: 'SHIPPED', total_minor: 4_499, version: 3 }]);
  });

  it('when garbage bytes and an event with an invalid order id arrive, then both are dead-lettered and counted, and later events still apply', async () => {
    const deadBefore = (await oq.api.getProjectionLag({})).eventsDeadLettered;
    const garbageSubject = orderEventSubject('placed', config.nats.subjectPrefix);
    const garbage = await feed.publishRaw(garbageSubject, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    const [invalid] = orderHistory('tom', ['placed'], 'not-an-order-id');
    const invalidAck = await feed.publish(invalid!);
    const [fine] = orderHistory('tom', ['placed']);
    await feed.publish(fine!);

    await projectedVersion(fine!.orderId, 'tom', 1);
    await waitFor(async () => deadLetters.length >= 2, 'two dead letters');
    await caughtUp(oq.api);

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

    expect((await oq.api.getProjectionLag({})).eventsDeadLettered - deadBefore).toBe(2);
    const jsm = await feed.nc.jetstreamManager();
    expect((await jsm.streams.info(config.nats.deadLetterStream)).state.messages).toBe(2);
  });

  it('when caught up, then the lag is 0; while the consumer is stopped and events wait, then the lag counts them and their age', async () => {
    const caught = await caughtUp(oq.api);
    expect(caught).toMatchObject({ eventsBehind: 0, secondsBehind: 0 });
    expect(caught.eventsApplied).toBeGreaterThan(0);
    expect(caught.lastAppliedAt!.getTime()).toBeLessThanOrEqual(Date.now());

    await oq.app.consumer.stop();
    const events = orderHistory('uma', ['placed', 'paid', 'cancelled']);
    for (const event of events) await feed.publish(event);
    await sleep(300);
    const behind = await oq.api.getProjectionLag({});
    expect(behind.eventsBehind).toBe(3);
    expect(behind.secondsBehind).toBeGreaterThanOrEqual(0.25);
    expect(behind.secondsBehind).toBeLessThan(30);

    await oq.app.consumer.start();
    await projectedVersion(events[0]!.orderId, 'uma', 3);
    expect(await caughtUp(oq.api)).toMatchObject({ eventsBehind: 0, secondsBehind: 0 });
  });
});

describe('order-query when an event keeps failing (MAX_DELIVER 3)', () => {
  let config: OrderQueryConfig;
  let feed: EventFeed;
  let oq: RunningOrderQuery;
  const deadLetters: Msg[] = [];
  /** Orders whose shard "is down": every projection of them fails as a lost connection would. */
  const unreachable = new Set<string>();

  beforeAll(async () => {
    config = queryConfig({ MAX_DELIVER: '3', REDELIVERY_DELAY_MS: '20' });
    feed = await EventFeed.open(config);
    feed.nc.subscribe(config.nats.deadLetterSubject, { callback: (error, msg) => !error && deadLetters.push(msg) });
    const decorateStore = (store: OrderViewStore): OrderViewStore => ({
      get: (id) => store.get(id),
      listByCustomer: (...args) => store.listByCustomer(...args),
      shardOf: (id) => store.shardOf(id),
      project: async (events, decide, at, attempts) => {
        if (events.some((event) => unreachable.has(event.orderId))) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return store.project(events, decide, at, attempts);
      },
    });
    oq = await startOrderQuery(config, { decorateStore });
  });

  afterAll(async () => {
    await oq?.stop();
    await feed?.close();
    if (config) await cleanUp(config);
  });

  it('when a transient failure outlasts every delivery, or a missing version never comes, then the event is dead-lettered on its last delivery', async () => {
    const [down] = orderHistory('val', ['placed']);
    unreachable.add(down!.orderId);
    const [, orphan] = orderHistory('val', ['placed', 'paid']);
    const downAck = await feed.publish(down!);
    const orphanAck = await feed.publish(orphan!);

    await waitFor(async () => deadLetters.length >= 2, 'two dead letters');
    const bySequence = new Map(deadLetters.map((msg) => [Number(msg.headers?.get(DEAD_LETTER_HEADERS.sequence)), msg]));
    const downLetter = bySequence.get(downAck.seq)!;
    expect(downLetter.headers?.get(DEAD_LETTER_HEADERS.deliveries)).toBe('3');
    expect(downLetter.headers?.get(DEAD_LETTER_HEADERS.error)).toContain('failed on all 3 deliveries, last: connect ECONNREFUSED');
    const orphanLetter = bySequence.get(orphanAck.seq)!;
    expect(orphanLetter.headers?.get(DEAD_LETTER_HEADERS.error)).toContain(`version 2 of order ${orphan!.orderId} never became the next version`);
    expect(await caughtUp(oq.api)).toMatchObject({ eventsBehind: 0, eventsDeadLettered: 2, eventsApplied: 0 });
  });
});
