import type { orderV1 } from '@orderflow/proto';
import type { OrderQueryConfig } from '../src/config';
import { actor, caughtUp, cleanUp, EventFeed, orderHistory, queryConfig, ReadShards, RunningOrderQuery, startOrderQuery, waitFor } from './support';

describe('order-query restarted, and two instances on one durable consumer (real MariaDB x2 and NATS JetStream)', () => {
  const configs: OrderQueryConfig[] = [];
  const running: RunningOrderQuery[] = [];
  const feeds: EventFeed[] = [];

  async function setUp() {
    const config = queryConfig();
    configs.push(config);
    const feed = await EventFeed.open(config);
    feeds.push(feed);
    return { config, feed };
  }

  async function start(config: OrderQueryConfig) {
    const oq = await startOrderQuery(config);
    running.push(oq);
    return oq;
  }

  afterAll(async () => {
    for (const oq of running) await oq.stop().catch(() => undefined);
    for (const feed of feeds) await feed.close();
    for (const config of configs) await cleanUp(config);
  });

  const versionOf = (oq: RunningOrderQuery, event: orderV1.OrderEvent) =>
    oq.api.getOrder({ orderId: event.orderId, actor: actor(event.customerId) }).then(
      ({ order }) => order!.version,
      () => 0,
    );

  it('when the service stops, events arrive, and a new instance starts on the same durable and databases, then it applies only the new events', async () => {
    const { config, feed } = await setUp();
    const first = await start(config);
    const [xPlaced, xPaid] = orderHistory('vera', ['placed', 'paid']);
    const [yPlaced] = orderHistory('vera', ['placed']);
    await feed.publish(xPlaced!);
    await waitFor(async () => (await versionOf(first, xPlaced!)) === 1, 'the first order at version 1');
    await caughtUp(first.api);
    await first.stop();

    await feed.publish(xPaid!);
    await feed.publish(yPlaced!);
    // Started with another redelivery bound: the durable consumer is updated in place, its position kept.
    const second = await start({ ...config, nats: { ...config.nats, maxDeliver: 12 } });
    await waitFor(async () => (await versionOf(second, xPaid!)) === 2 && (await versionOf(second, yPlaced!)) === 1, 'both orders projected');
    const lag = await caughtUp(second.api);

    expect(lag.eventsApplied).toBe(2);
    const jsm = await feed.nc.jetstreamManager();
    expect((await jsm.consumers.info(config.nats.stream, config.nats.consumer)).config.max_deliver).toBe(12);
    expect((await second.api.listOrders({ customerId: 'vera' })).orders.map((o) => [o.id, o.version])).toEqual(
      [
        [xPaid!.orderId, 2],
        [yPlaced!.orderId, 1],
      ].sort((a, b) => (BigInt(b[0]!) > BigInt(a[0]!) ? 1 : -1)),
    );
  });

  it('when two instances share the durable, then every event is applied exactly once and every order has one view at its last version', async () => {
    const { config, feed } = await setUp();
    const [a, b] = [await start(config), await start(config)];
    const histories = Array.from({ length: 40 }, (_, i) => orderHistory(`wes-${i % 8}`, ['placed', 'paid', 'shipped']));
    // Interleaved across orders, as relays on several shards would publish them.
    for (let version = 0; version < 3; version++) await feed.publishAll(histories.map((events) => events[version]!));

    const shards = new ReadShards(config);
    try {
      const views = async () =>
        (await shards.rows<{ order_id: string; version: number }>('SELECT CAST(order_id AS CHAR) AS order_id, version FROM order_views')).flat();
      await waitFor(async () => (await views()).filter((v) => Number(v.version) === 3).length === 40, 'every order at version 3');
      await caughtUp(a.api);

      expect(a.app.stats.eventsApplied + b.app.stats.eventsApplied).toBe(120);
      expect(a.app.stats.eventsApplied).toBeGreaterThan(0);
      expect(b.app.stats.eventsApplied).toBeGreaterThan(0);
      const projected = await views();
      expect(projected).toHaveLength(40);
      expect(new Set(projected.map((v) => v.order_id))).toEqual(new Set(histories.map((events) => events[0]!.orderId)));
      const listing = (await shards.rows<{ n: number }>('SELECT COUNT(*) AS n FROM customer_orders WHERE version = 3')).flat();
      expect(listing.reduce((sum, row) => sum + Number(row.n), 0)).toBe(40);
    } finally {
      await shards.close();
    }
  });

  it('when the consumer stops and starts again and again with events published in between, then no event waits out ack_wait', async () => {
    // Regression: with a pull cut short at stop, nats-server 2.9 handed the next event to the dead pull
    // about one stop in three, and it came back only after ack_wait. Here ack_wait is 60 s, each wait 10 s.
    const config = queryConfig({ ACK_WAIT_MS: '60000' });
    configs.push(config);
    const feed = await EventFeed.open(config);
    feeds.push(feed);
    const oq = await start(config);
    for (let round = 0; round < 8; round++) {
      const [placed] = orderHistory('wyn', ['placed']);
      await feed.publish(placed!);
      await waitFor(async () => (await versionOf(oq, placed!)) === 1, `round ${round}: the order before the stop`);
      await oq.app.consumer.stop();
      const [early, later] = orderHistory('wyn', ['placed', 'paid']);
      await feed.publish(early!);
      await feed.publish(later!);
      await oq.app.consumer.start();
      await waitFor(async () => (await versionOf(oq, later!)) === 2, `round ${round}: the events published while stopped`, 10_000);
    }
    expect(await caughtUp(oq.api)).toMatchObject({ eventsBehind: 0, eventsApplied: 24 });
  });
});
