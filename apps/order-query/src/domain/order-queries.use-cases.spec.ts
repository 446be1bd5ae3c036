import { bucketForCustomer, OrderIdGenerator } from '@orderflow/sharding';
import { InvalidPageTokenError, OrderNotFoundError } from './errors';
import type { OrderView } from './model';
import { createOrderQueries } from './order-queries.use-cases';
import { createPageCursors } from './page-cursor';
import type { OrderViewStore } from './ports';

const ids = new OrderIdGenerator();
const byIdDescending = (a: OrderView, b: OrderView) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1);

function view(customerId: string, version = 1): OrderView {
  const now = new Date();
  return {
    id: ids.next(bucketForCustomer(customerId)),
    customerId,
    status: 'RESERVED',
    items: [],
    totalMinor: 100,
    address: 'A',
    paymentMethod: 'card',
    version,
    createdAt: now,
    updatedAt: now,
    expiresAt: now,
  };
}

/** An in-memory store: the queries' rules are tested here, the SQL against real servers. */
function harness(readWaitMaxMs = 1_000) {
  const views = new Map<string, OrderView>();
  let reads = 0;
  const store: OrderViewStore = {
    shardOf: () => 0,
    project: async (events) => events.map(() => 'duplicate'),
    get: async (id) => {
      reads++;
      return views.get(id);
    },
    listByCustomer: async (customerId, before, limit) =>
      [...views.values()]
        .filter((v) => v.customerId === customerId && (before === undefined || BigInt(v.id) < BigInt(before)))
        .sort(byIdDescending)
        .slice(0, limit),
  };
  const queries = createOrderQueries({
    store,
    cursors: createPageCursors('unit-test-cursor-secret'),
    clock: { now: () => new Date() },
    readWaitMaxMs,
    pollIntervalMs: 5,
  });
  return { views, queries, reads: () => reads };
}

const alice = { customerId: 'alice', admin: false };

describe('GetOrder', () => {
  it('when the owner or an admin asks, then they get the order; another customer gets not-found', async () => {
    const { views, queries } = harness();
    const order = view('alice');
    views.set(order.id, order);
    const get = (actor: { customerId: string; admin: boolean }) => queries.getOrder({ orderId: order.id, actor, minVersion: 0, waitMs: 0 });
    await expect(get(alice)).resolves.toBe(order);
    await expect(get({ customerId: 'ops', admin: true })).resolves.toBe(order);
    await expect(get({ customerId: 'bob', admin: false })).rejects.toThrow(OrderNotFoundError);
  });

  it('when min_version is not projected yet but arrives during the wait, then that version is returned', async () => {
    const { views, queries } = harness();
    const order = view('alice');
    views.set(order.id, order);
    setTimeout(() => views.set(order.id, { ...order, version: 2, status: 'PAID' }), 30);
    await expect(queries.getOrder({ orderId: order.id, actor: alice, minVersion: 2, waitMs: 500 })).resolves.toMatchObject({ version: 2, status: 'PAID' });
  });

  it('when min_version never arrives, then after the wait the projected version is returned', async () => {
    const { views, queries } = harness();
    const order = view('alice');
    views.set(order.id, order);
    const started = Date.now();
    await expect(queries.getOrder({ orderId: order.id, actor: alice, minVersion: 5, waitMs: 60 })).resolves.toMatchObject({ version: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('when the caller asks to wait longer than the server allows, then the wait is capped', async () => {
    const { queries } = harness(50);
    const started = Date.now();
    await expect(queries.getOrder({ orderId: view('alice').id, actor: alice, minVersion: 1, waitMs: 60_000 })).rejects.toThrow(OrderNotFoundError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('when min_version is 0, then the store is read once and nothing waits', async () => {
    const { queries, reads } = harness();
    await expect(queries.getOrder({ orderId: view('alice').id, actor: alice, minVersion: 0, waitMs: 5_000 })).rejects.toThrow(OrderNotFoundError);
    expect(reads()).toBe(1);
  });
});

describe('ListOrders', () => {
  it('when paging through, then every order comes once, newest first, and the last page has no token', async () => {
    const { views, queries } = harness();
    for (let i = 0; i < 23; i++) {
      const order = view('alice');
      views.set(order.id, order);
    }
    views.set('1', { ...view('bob'), id: '1' });
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await queries.listOrders({ customerId: 'alice', pageSize: 10, pageToken: token });
      seen.push(...page.orders.map((o) => o.id));
      token = page.nextPageToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(
      [...views.values()]
        .filter((v) => v.customerId === 'alice')
        .sort(byIdDescending)
        .map((v) => v.id),
    );
  });

  it('when exactly a page is left, then there is no empty page after it', async () => {
    const { views, queries } = harness();
    for (let i = 0; i < 10; i++) {
      const order = view('carol');
      views.set(order.id, order);
    }
    expect((await queries.listOrders({ customerId: 'carol', pageSize: 10, pageToken: '' })).nextPageToken).toBe('');
  });

  it("when another customer's token is used, then it is refused", async () => {
    const { views, queries } = harness();
    for (let i = 0; i < 3; i++) {
      const order = view('alice');
      views.set(order.id, order);
    }
    const { nextPageToken } = await queries.listOrders({ customerId: 'alice', pageSize: 1, pageToken: '' });
    await expect(queries.listOrders({ customerId: 'bob', pageSize: 1, pageToken: nextPageToken })).rejects.toThrow(InvalidPageTokenError);
  });
});
