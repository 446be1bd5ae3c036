import { InvalidArgumentError, OrderNotFoundError } from './errors';
import { Actor, Order, OrderHistoryEntry, VISIBLE_STATUSES } from './model';
import type { OrderIdSource, OrderRepository } from './ports';
import { validateActor } from './validation';

/** GetOrder: the order as the actor may see it. */
export function createGetOrder({ repository, ids }: { repository: OrderRepository; ids: OrderIdSource }) {
  return async function getOrder(orderId: string, actor: Actor): Promise<Order> {
    validateActor(actor);
    if (typeof orderId !== 'string' || !ids.isValid(orderId)) {
      throw new InvalidArgumentError([{ field: 'order_id', description: 'must be an order id (a decimal 64-bit number)' }]);
    }
    const order = await repository.get(orderId);
    // Another customer's order is "not found": its existence is not revealed. So are the internal statuses.
    if (!order || !VISIBLE_STATUSES.includes(order.status) || (!actor.admin && order.customerId !== actor.customerId)) {
      throw new OrderNotFoundError(orderId);
    }
    return order;
  };
}

export type GetOrder = ReturnType<typeof createGetOrder>;

/** GetOrderHistory: every visible status change of an order the actor may see (GetOrder's rule), oldest first. */
export function createGetOrderHistory({ repository, getOrder }: { repository: OrderRepository; getOrder: GetOrder }) {
  return async function getOrderHistory(orderId: string, actor: Actor): Promise<OrderHistoryEntry[]> {
    await getOrder(orderId, actor);
    return (await repository.history(orderId)).filter((entry) => VISIBLE_STATUSES.includes(entry.status));
  };
}
