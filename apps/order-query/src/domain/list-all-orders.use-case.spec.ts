import { bucketForCustomer, OrderIdGenerator, ShardOperationError } from '@orderflow/sharding';
import { InvalidArgumentError, InvalidPageTokenError, PermissionDeniedError } from './errors';
import { createListAllOrders } from './list-all-orders.use-case';
import { ORDER_STATUSES, type ListAllOrdersQuery, type OrderStatus, type OrderView } from './model';
import { createPageCursors } from './page-cursor';
import type { OrderShardReader } from './ports';

const ids = new OrderIdGenerator();
const SHARDS = 3;
const shardOf = (customerId: string) => bucketForCustomer(customerId) % SHARDS;
const byIdDescending = (a: OrderView, b: OrderView) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1);

function view(customerId: string, status: OrderStatus): OrderView {
  const now = new Date();
  return {
    id: ids.next(bucketForCustomer(customerId)),
    customerId,
    status,
    items: [],
    totalMinor: 1,
    address: 'A',
    paymentMethod: 'card',
    version: 1,
    createdAt: now,
    updatedAt: now,
    expiresAt: now,
  };
}

/** Three in-memory shards; records how many rows each shard returned per call. */
function harness(orders: OrderView[]) {
  const reads: { shard: number; rows: number; limit: number }[] = [];
  const reader: OrderShardReader = {
    readShards: () => [0, 1, 2],
    shardForCustomer: shardOf,
    listShard: async (shard, filter, before, limit) => {
      const rows = orders
        .filter((o) => shardOf(o.customerId) === shard)
        .filter((o) => (filter.status === undefined || o.status === filter.status) && (filter.customerId === undefined || o.customerId === filter.customerId))
        .filter((o) => before === undefined || BigInt(o.id) < BigInt(before))
        .sort(byIdDescending)
        .slice(0, limit);
      reads.push({ shard, rows: rows.length, limit });
      return rows;
    },
  };
  const listAllOrders = createListAllOrders({ reader, cursors: createPageCursors('unit-test-cursor-secret') });
  return { listAllOrders, reads };
}

const admin = { customerId: 'ops', admin: true };
const query = (overrides: Partial<ListAllOrdersQuery> = {}): ListAllOrdersQuery => ({
  actor: admin,
  status: undefined,
  customerId: '',
  pageSize: 0,
  pageToken: '',
  ...overrides,
});

async function pageThrough(list: ReturnType<typeof harness>['listAllOrders'], base: ListAllOrdersQuery): Promise<OrderView[][]> {
  const pages: OrderView[][] = [];
  let pageToken = '';
  do {
    const page = await list({ ...base, pageToken });
    pages.push(page.orders);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return pages;
}

describe('ListAllOrders', () => {
  const customers = ['ann', 'ben', 'cid', 'dee', 'eve', 'fay', 'gus'];
  const orders = Array.from({ length: 400 }, (_, i) => view(customers[i % customers.length]!, ORDER_STATUSES[i % ORDER_STATUSES.length]!));

  it.each([
    ['no filter', {}],
    ['a status', { status: 'PAID' }],
    ['a customer', { customerId: 'cid' }],
    ['a customer and a status', { customerId: 'ann', status: 'RESERVED' }],
  ])(
    'when an admin pages through with %s, then every matching order comes once, newest first, each shard reading at most page size + 1 rows per page',
    async (_, filter) => {
      const { listAllOrders, reads } = harness(orders);
      const pages = await pageThrough(listAllOrders, query({ ...filter, pageSize: 7 }));
      const expected = orders
        .filter((o) => (!('status' in filter) || o.status === filter.status) && (!('customerId' in filter) || o.customerId === filter.customerId))
        .sort(byIdDescending);
      expect(expected.length).toBeGreaterThan(7);
      expect(pages.flat().map((o) => o.id)).toEqual(expected.map((o) => o.id));
      expect(pages.slice(0, -1).every((page) => page.length === 7)).toBe(true);
      expect(reads.every((read) => read.limit === 8 && read.rows <= 8)).toBe(true);
      if ('customerId' in filter) expect(new Set(reads.map((read) => read.shard))).toEqual(new Set([shardOf(filter.customerId as string)]));
    },
  );

  it('when the actor is not an admin, then it is refused before anything is read', async () => {
    const { listAllOrders, reads } = harness(orders);
    await expect(listAllOrders(query({ actor: { customerId: 'ann', admin: false }, pageSize: 1_000 }))).rejects.toThrow(PermissionDeniedError);
    await expect(listAllOrders(query({ actor: undefined }))).rejects.toThrow(InvalidArgumentError);
    expect(reads).toEqual([]);
  });

  it('when a filter or the page size is bad, then it is an invalid argument naming each field', async () => {
    const { listAllOrders } = harness(orders);
    const error = await listAllOrders(query({ status: 'LOST', customerId: 'no spaces', pageSize: 101 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).violations.map((v) => v.field)).toEqual(['status', 'customer_id', 'page_size']);
  });

  it('when a page token is reused with another filter, then it is refused', async () => {
    const { listAllOrders } = harness(orders);
    const { nextPageToken } = await listAllOrders(query({ status: 'PAID', pageSize: 2 }));
    await expect(listAllOrders(query({ status: 'SHIPPED', pageSize: 2, pageToken: nextPageToken }))).rejects.toThrow(InvalidPageTokenError);
  });

  it('when a shard fails, then the call fails instead of returning a partial page', async () => {
    const { listAllOrders } = harness(orders);
    const failing = createListAllOrders({
      reader: { readShards: () => [0, 1], shardForCustomer: () => 0, listShard: async (shard) => (shard === 1 ? Promise.reject(new Error('down')) : []) },
      cursors: createPageCursors('unit-test-cursor-secret'),
    });
    await expect(failing(query())).rejects.toThrow(ShardOperationError);
    await expect(listAllOrders(query())).resolves.toMatchObject({ orders: expect.any(Array) });
  });
});
