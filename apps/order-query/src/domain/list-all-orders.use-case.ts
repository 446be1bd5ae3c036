import { scatterGather } from '@orderflow/sharding';
import type { AllOrdersFilter, ListAllOrdersQuery, OrderPage, OrderView } from './model';
import type { PageCursors } from './page-cursor';
import type { OrderShardReader } from './ports';
import { validateListAllOrders } from './validation';

export interface ListAllOrdersDeps {
  reader: OrderShardReader;
  cursors: PageCursors;
}

/** Highest id first; ids are 64-bit, so compared as bigints, never as JS numbers. */
const newestFirst = (a: OrderView, b: OrderView): number => {
  const x = BigInt(a.id);
  const y = BigInt(b.id);
  return x > y ? -1 : x < y ? 1 : 0;
};

/**
 * The admin listing: every customer's orders (or one customer's), newest first, optionally one status.
 * Keyset pagination across shards: the cursor is the last id returned, every shard reads at most
 * page size + 1 rows below it, and a k-way merge keeps the first page size + 1 of them. The globally
 * newest rows are always among each shard's newest, so the page is exact and the work per shard per
 * page is bounded. A customer filter reads that customer's shard alone. A failing shard fails the call.
 */
export function createListAllOrders({ reader, cursors }: ListAllOrdersDeps) {
  return async function listAllOrders(query: ListAllOrdersQuery): Promise<OrderPage> {
    const { status, pageSize } = validateListAllOrders(query);
    const filter: AllOrdersFilter = { ...(status && { status }), ...(query.customerId && { customerId: query.customerId }) };
    const before = query.pageToken ? cursors.decodeAllOrders(query.pageToken, filter).lastOrderId : undefined;
    const customerId = filter.customerId;
    const shards = { shards: () => (customerId === undefined ? reader.readShards() : [reader.shardForCustomer(customerId)]) };
    // One more than asked tells whether there is a next page, so the last page carries no token.
    const rows = await scatterGather(shards, (shard) => reader.listShard(shard, filter, before, pageSize + 1), { compare: newestFirst, limit: pageSize + 1 });
    const orders = rows.slice(0, pageSize);
    const last = orders[orders.length - 1];
    const nextPageToken = rows.length > pageSize && last ? cursors.encodeAllOrders({ filter, lastOrderId: last.id }) : '';
    return { orders, nextPageToken };
  };
}

export type ListAllOrders = ReturnType<typeof createListAllOrders>;
