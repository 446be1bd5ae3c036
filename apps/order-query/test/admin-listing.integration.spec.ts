import { status } from '@grpc/grpc-js';
import type { OrderEventKind } from '@orderflow/messaging';
import { errorDetails, orderV1 } from '@orderflow/proto';
import { shardMapFromConfig, ShardRouter } from '@orderflow/sharding';
import { actor, byIdDescending, caughtUp, failure, orderHistory, orderQueryRun } from './support';

const { OrderStatus } = orderV1;

// Five life stories, so every status is present on every shard.
const STORIES: OrderEventKind[][] = [['placed'], ['placed', 'paid'], ['placed', 'paid', 'shipped'], ['placed', 'cancelled'], ['placed', 'expired']];

describe('order-query ListAllOrders across read shards (real MariaDB x2 and NATS JetStream)', () => {
  /** Every shard read the admin listing made: which shard, the limit asked, the rows returned. */
  const reads: { shard: number; limit: number; rows: number }[] = [];
  /** The last event of every order: the order as projected. */
  const orders: orderV1.Order[] = [];
  const customers = Array.from({ length: 24 }, (_, i) => `admin-list-${i}`);
  const run = orderQueryRun({}, () => ({
    decorateShardReader: (reader) => ({
      readShards: () => reader.readShards(),
      shardForCustomer: (customerId) => reader.shardForCustomer(customerId),
      listShard: async (shard, filter, before, limit) => {
        const rows = await reader.listShard(shard, filter, before, limit);
        reads.push({ shard, limit, rows: rows.length });
        return rows;
      },
    }),
  }));

  beforeAll(async () => {
    const events: orderV1.OrderEvent[] = [];
    customers.forEach((customer, c) => {
      for (let i = 0; i < 5; i++) {
        const history = orderHistory(customer, STORIES[(c + i) % STORIES.length]!);
        events.push(...history);
        orders.push(history[history.length - 1]!.order!);
      }
    });
    await run.feed.publishAll(events);
    await caughtUp(run.oq.api);
  }, 60_000);

  const admin = actor('ops-1', true);

  async function pageThrough(request: { status?: orderV1.OrderStatus; customerId?: string; pageSize: number }, onPage?: (page: number) => Promise<void>) {
    const pages: orderV1.Order[][] = [];
    const readsPerPage: (typeof reads)[] = [];
    let pageToken = '';
    do {
      reads.length = 0;
      const page = await run.oq.api.listAllOrders({ ...request, actor: admin, pageToken });
      readsPerPage.push([...reads]);
      pages.push(page.orders);
      pageToken = page.nextPageToken;
      await onPage?.(pages.length);
    } while (pageToken);
    return { pages, readsPerPage };
  }

  it('when the customers spread over the read shards, then the test data really spans every shard', () => {
    const router = new ShardRouter(shardMapFromConfig(run.config.shardMap || undefined, run.config.shards.length));
    expect(new Set(customers.map((c) => router.shardForCustomer(c)))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('when an admin pages through everything 7 at a time, then each order comes once, newest first, with no gap or repeat, each shard reading at most 8 rows per page, even as a new order arrives', async () => {
    const expected = orders.map((o) => o.id).sort(byIdDescending);
    const { pages, readsPerPage } = await pageThrough({ pageSize: 7 }, async (page) => {
      // A new order while the admin pages: it sorts before every page already read, so it never shows up in this run.
      if (page === 2) {
        await run.feed.publishAll(orderHistory('admin-list-late'));
        await caughtUp(run.oq.api);
      }
    });
    expect(pages.flat().map((o) => o.id)).toEqual(expected);
    expect(pages.slice(0, -1).every((page) => page.length === 7)).toBe(true);
    expect(pages.at(-1)!.length).toBe(expected.length % 7 || 7);
    for (const pageReads of readsPerPage) {
      expect(pageReads.map((r) => r.shard).sort()).toEqual([0, 1, 2, 3]);
      expect(pageReads.every((r) => r.limit === 8 && r.rows <= 8)).toBe(true);
    }
    // The whole listing was read in pages: never more than page size + 1 rows from a shard at a time.
    expect(readsPerPage.flat().reduce((sum, r) => sum + r.rows, 0)).toBeLessThanOrEqual(readsPerPage.length * 4 * 8);
    const fresh = await run.oq.api.listAllOrders({ actor: admin, pageSize: 1 });
    expect(fresh.orders[0]!.customerId).toBe('admin-list-late');
  });

  it('when an admin filters by status, then only orders in that status come, each once, newest first', async () => {
    for (const [wanted, count] of [
      [OrderStatus.ORDER_STATUS_PAID, 5],
      [OrderStatus.ORDER_STATUS_SHIPPED, 10],
    ] as const) {
      const expected = orders
        .filter((o) => o.status === wanted)
        .map((o) => o.id)
        .sort(byIdDescending);
      const { pages, readsPerPage } = await pageThrough({ status: wanted, pageSize: count });
      expect(expected.length).toBeGreaterThan(count);
      expect(pages.flat().map((o) => o.id)).toEqual(expected);
      expect(pages.flat().every((o) => o.status === wanted)).toBe(true);
      expect(readsPerPage.flat().every((r) => r.limit === count + 1 && r.rows <= count + 1)).toBe(true);
    }
  });

  it("when an admin filters by customer (and status), then only that customer's shard is read and only its orders come", async () => {
    const router = new ShardRouter(shardMapFromConfig(run.config.shardMap || undefined, run.config.shards.length));
    const customer = customers[5]!;
    const mine = orders.filter((o) => o.customerId === customer);
    const all = await pageThrough({ customerId: customer, pageSize: 2 });
    expect(all.pages.flat().map((o) => o.id)).toEqual(mine.map((o) => o.id).sort(byIdDescending));
    expect(all.pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(new Set(all.readsPerPage.flat().map((r) => r.shard))).toEqual(new Set([router.shardForCustomer(customer)]));

    const paid = mine.filter((o) => o.status === OrderStatus.ORDER_STATUS_PAID);
    const filtered = await pageThrough({ customerId: customer, status: OrderStatus.ORDER_STATUS_PAID, pageSize: 2 });
    expect(paid).toHaveLength(1);
    expect(filtered.pages.flat().map((o) => o.id)).toEqual(paid.map((o) => o.id));
  });

  it('when the actor is not an admin, then it is PERMISSION_DENIED, even with otherwise bad arguments', async () => {
    const error = await failure(run.oq.api.listAllOrders({ actor: actor(customers[0]!), pageSize: 1_000 }));
    expect({ code: error.code, reason: errorDetails.errorReason(error.metadata) }).toEqual({ code: status.PERMISSION_DENIED, reason: 'permission-denied' });
  });

  it('when a token is tampered with, malformed, or reused with other filters, then it is INVALID_ARGUMENT invalid-page-token', async () => {
    const { nextPageToken } = await run.oq.api.listAllOrders({ actor: admin, pageSize: 3 });
    const i = Math.floor(nextPageToken.length / 2);
    const flipped = nextPageToken.slice(0, i) + (nextPageToken[i] === 'A' ? 'B' : 'A') + nextPageToken.slice(i + 1);
    for (const request of [{ pageToken: flipped }, { pageToken: 'garbage' }, { pageToken: nextPageToken, status: OrderStatus.ORDER_STATUS_PAID }]) {
      const error = await failure(run.oq.api.listAllOrders({ ...request, actor: admin, pageSize: 3 }));
      expect({ code: error.code, reason: errorDetails.errorReason(error.metadata) }).toEqual({ code: status.INVALID_ARGUMENT, reason: 'invalid-page-token' });
    }
  });

  it('when a filter or the page size is bad, then it is INVALID_ARGUMENT naming each field', async () => {
    const error = await failure(run.oq.api.listAllOrders({ actor: admin, status: 42 as orderV1.OrderStatus, customerId: 'not a customer', pageSize: 101 }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails.readFieldViolations(error.metadata).map((v) => v.field)).toEqual(['status', 'customer_id', 'page_size']);
  });
});
