import { ForbiddenError } from './errors';
import type { Actor } from './model';
import { ship } from './order.aggregate';
import type { ChangeOrder } from './order-change';

/** ShipOrder: an admin's only; refused before the order is even read. */
export function createShipOrder({ changeOrder }: { changeOrder: ChangeOrder }) {
  return (orderId: string, actor: Actor) => {
    if (!actor?.admin) throw new ForbiddenError('only an admin can ship an order');
    return changeOrder(orderId, actor, (order, now) => ship(order, actor, now));
  };
}
