import type { Actor } from './model';
import { cancel } from './order.aggregate';
import type { ChangeOrder } from './order-change';

/** CancelOrder, by the order's customer or an admin: CANCELLED, then its stock released (the settler retries). */
export function createCancelOrder({ changeOrder }: { changeOrder: ChangeOrder }) {
  return (orderId: string, actor: Actor) => changeOrder(orderId, actor, (order, now) => cancel(order, actor, now));
}
