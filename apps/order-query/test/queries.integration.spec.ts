import { status } from '@grpc/grpc-js';
import { errorDetails, orderV1 } from '@orderflow/proto';
import { ShardRouter, shardMapFromConfig } from '@orderflow/sharding';
import { actor, byIdDescending, caughtUp, failure, orderHistory, orderQueryRun, ReadShards, sleep, waitFor } from './support';

describe('order-query GetOrder and ListOrders (real MariaDB x2 and NATS JetStream)', () => {
  const run = orderQueryRun();

  async function projected(events: orderV1.OrderEvent[]): Promise<void> {
    await run.feed.publishAll(events);
    await caughtUp(run.oq.api);
  }

  describe('GetOrder', () => {
    it('when the owner or an admin asks, then they get the order; another customer gets NOT_FOUND, as for an order that does not exist', async () => {
      const [placed] = orderHistory('ann', ['placed']);
      await projected([placed!]);
      const get = (who: orderV1.Actor) => run.oq.api.getOrder({ orderId: placed!.orderId, actor: who });

      expect((await get(actor('ann'))).order).toEqual(placed!.order);
      expect((await get(actor('ops-1', true))).order).toEqual(placed!.order);
      const other = await failure(get(actor('ben')));
      const missing = await failure(run.oq.api.getOrder({ orderId: orderHistory('ann')[0]!.orderId, actor: actor('ann') }));
      for (const error of [other, missing]) {
        expect(error.code).toBe(status.NOT_FOUND);
        expect(errorDetails.errorReason(error.metadata)).toBe('not-found');
      }
    });

    it('when the order id or the actor is malformed, then it is INVALID_ARGUMENT naming the field', async () => {
      const badId = await failure(run.oq.api.getOrder({ orderId: '12ab', actor: actor('ann') }));
      expect(badId.code).toBe(status.INVALID_ARGUMENT);
      expect(errorDetails.readFieldViolations(badId.metadata).map((v) => v.field)).toEqual(['order_id']);
      const noActor = await failure(run.oq.api.getOrder({ orderId: '123' }));
      expect(noActor.code).toBe(status.INVALID_ARGUMENT);
      expect(errorDetails.readFieldViolations(noActor.metadata).map((v) => v.field)).toEqual(['actor.customer_id']);
    });

    it('when min_version is published shortly after the call, then the call waits for it and returns it', async () => {
      const [placed, paid] = orderHistory('cid', ['placed', 'paid']);
      await projected([placed!]);
      const started = Date.now();
      const call = run.oq.api.getOrder({ orderId: placed!.orderId, actor: actor('cid'), minVersion: 2, waitMs: 3_000 });
      await sleep(300);
      await run.feed.publish(paid!);

      expect((await call).order).toEqual(paid!.order);
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(300);
      expect(took).toBeLessThan(2_000);
    });

    it('when min_version does not arrive within the wait, then the call answers with the version it has', async () => {
      const [placed] = orderHistory('cid', ['placed']);
      await projected([placed!]);
      const started = Date.now();
      expect((await run.oq.api.getOrder({ orderId: placed!.orderId, actor: actor('cid'), minVersion: 3, waitMs: 200 })).order).toMatchObject({ version: 1 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    });

    it("when the wait for min_version outlasts the caller's deadline, then it answers in time with the version it has, not DEADLINE_EXCEEDED", async () => {
      const [placed] = orderHistory('cid', ['placed']);
      await projected([placed!]);
      const answer = await run.oq.api.getOrder({ orderId: placed!.orderId, actor: actor('cid'), minVersion: 3, waitMs: 5_000 }, 1_000);
      expect(answer.order).toMatchObject({ version: 1 });
    });
  });

  describe('ListOrders', () => {
    const customer = 'dora-lists';
    let all: string[];

    beforeAll(async () => {
      const histories = Array.from({ length: 45 }, () => orderHistory(customer, ['placed']));
      // Another customer's orders on the same servers: they must never show up.
      await projected([...histories.map((h) => h[0]!).reverse(), ...orderHistory('eve-lists', ['placed']), ...orderHistory('fay-lists', ['placed'])]);
      all = histories.map((h) => h[0]!.orderId).sort(byIdDescending);
    });

    it('when paging through 45 orders 10 at a time, then every order comes exactly once, newest first, even as new orders arrive', async () => {
      const pages: string[][] = [];
      let token = '';
      do {
        const page = await run.oq.api.listOrders({ customerId: customer, pageSize: 10, pageToken: token });
        pages.push(page.orders.map((o) => o.id));
        expect(page.orders.every((o) => o.customerId === customer)).toBe(true);
        token = page.nextPageToken;
        // New orders arrive while the client pages: they sort before the pages already read.
        if (pages.length === 1) await projected(orderHistory(customer, ['placed']));
      } while (token);

      expect(pages.map((p) => p.length)).toEqual([10, 10, 10, 10, 5]);
      expect(pages.flat()).toEqual(all);
      const fresh = await run.oq.api.listOrders({ customerId: customer, pageSize: 100 });
      expect(fresh.orders).toHaveLength(46);
      expect(fresh.nextPageToken).toBe('');
    });

    it('when a token is tampered with, malformed, or minted for another customer, then it is INVALID_ARGUMENT invalid-page-token', async () => {
      const { nextPageToken } = await run.oq.api.listOrders({ customerId: customer, pageSize: 5 });
      const i = Math.floor(nextPageToken.length / 2);
      const flipped = nextPageToken.slice(0, i) + (nextPageToken[i] === 'A' ? 'B' : 'A') + nextPageToken.slice(i + 1);
      const attempts = [
        { customerId: customer, pageToken: flipped },
        { customerId: customer, pageToken: 'garbage' },
        { customerId: 'eve-lists', pageToken: nextPageToken },
      ];
      for (const request of attempts) {
        const error = await failure(run.oq.api.listOrders({ ...request, pageSize: 5 }));
        expect({ code: error.code, reason: errorDetails.errorReason(error.metadata) }).toEqual({ code: status.INVALID_ARGUMENT, reason: 'invalid-page-token' });
      }
      const tooBig = await failure(run.oq.api.listOrders({ customerId: customer, pageSize: 101 }));
      expect(errorDetails.readFieldViolations(tooBig.metadata).map((v) => v.field)).toEqual(['page_size']);
    });

    it("when a customer's orders are listed, then they are read from the customer's shard, the only one holding them", async () => {
      const router = new ShardRouter(shardMapFromConfig(run.config.shardMap || undefined, run.config.shards.length));
      const home = router.shardForCustomer(customer);
      const shards = new ReadShards(run.config);
      try {
        const counts = await shards.rows<{ views: number; listed: number }>(
          'SELECT (SELECT COUNT(*) FROM order_views WHERE customer_id = :customer) AS views, ' +
            '(SELECT COUNT(*) FROM customer_orders WHERE customer_id = :customer) AS listed',
          { customer },
        );
        const perShard = counts.map(([row]) => [Number(row!.views), Number(row!.listed)]);
        expect(perShard[home]).toEqual([46, 46]);
        expect(perShard.filter((_, shard) => shard !== home).flat()).toEqual([0, 0, 0, 0, 0, 0]);
        // The shards span both servers, so routing is proven across real server boundaries.
        expect(new Set(run.config.shards.map((s) => s.port)).size).toBe(2);
      } finally {
        await shards.close();
      }
    });
  });

  it('when nothing is behind, then the projection lag says so', async () => {
    await waitFor(async () => (await run.oq.api.getProjectionLag({})).eventsBehind === 0, 'no lag');
    expect(await run.oq.api.getProjectionLag({})).toMatchObject({ eventsBehind: 0, secondsBehind: 0, eventsDeadLettered: 0 });
  });
});
