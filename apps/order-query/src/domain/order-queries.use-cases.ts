import { OrderNotFoundError } from './errors';
import type { Actor, GetOrderQuery, ListOrdersQuery, OrderPage, OrderView } from './model';
import type { PageCursors } from './page-cursor';
import type { Clock, OrderViewStore } from './ports';
import { validateGetOrder, validateListOrders } from './validation';

export interface OrderQueriesDeps {
  store: OrderViewStore;
  cursors: PageCursors;
  clock: Clock;
  /** Ceiling of GetOrder's wait for min_version, whatever the caller asks. */
  readWaitMaxMs: number;
  /** How often GetOrder looks again while it waits. */
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Only the owner and admins see an order; to anyone else it does not exist. */
const visibleTo = (view: OrderView | undefined, actor: Actor): OrderView | undefined =>
  view && (actor.admin || view.customerId === actor.customerId) ? view : undefined;

export function createOrderQueries({ store, cursors, clock, readWaitMaxMs, pollIntervalMs = 20, sleep = defaultSleep }: OrderQueriesDeps) {
  return {
    /**
     * The projected order. With min_version, looks again every pollIntervalMs until that version is
     * projected or the wait (capped) is over, then answers with what it has. An order the actor may
     * not see is waited for like a missing one, so the answer's timing does not reveal it either.
     */
    async getOrder(query: GetOrderQuery): Promise<OrderView> {
      validateGetOrder(query);
      const actor = query.actor as Actor;
      const deadline = clock.now().getTime() + Math.min(query.waitMs, readWaitMaxMs);
      let view = visibleTo(await store.get(query.orderId), actor);
      while (query.minVersion > 0 && (view?.version ?? 0) < query.minVersion && clock.now().getTime() < deadline) {
        await sleep(Math.max(1, Math.min(pollIntervalMs, deadline - clock.now().getTime())));
        view = visibleTo(await store.get(query.orderId), actor);
      }
      if (!view) throw new OrderNotFoundError(query.orderId);
      return view;
    },

    /**
     * One page of the customer's orders, newest first. Keyset pagination on the order id (ids are
     * time-ordered): a page starts below the last id of the previous one, so orders placed meanwhile
     * cause neither gaps nor repeats.
     */
    async listOrders(query: ListOrdersQuery): Promise<OrderPage> {
      const pageSize = validateListOrders(query);
      const before = query.pageToken ? cursors.decode(query.pageToken, query.customerId).lastOrderId : undefined;
      // One more than asked tells whether there is a next page, so the last page carries no token.
      const rows = await store.listByCustomer(query.customerId, before, pageSize + 1);
      const orders = rows.slice(0, pageSize);
      const last = orders[orders.length - 1];
      const nextPageToken = rows.length > pageSize && last ? cursors.encode({ customerId: query.customerId, lastOrderId: last.id }) : '';
      return { orders, nextPageToken };
    },
  };
}

export type OrderQueries = ReturnType<typeof createOrderQueries>;
