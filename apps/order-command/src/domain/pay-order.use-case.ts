import { OrderExpiredError, ReservationReleasedError } from './errors';
import type { Actor } from './model';
import { pay } from './order.aggregate';
import type { ChangeOrder } from './order-change';
import type { InventoryPort } from './ports';

/**
 * PayOrder: pins the reservation in inventory first, so inventory's sweeper can no longer release the
 * stock of an order about to be PAID (ADR 0005); then records PAID and commits (the settler retries the
 * commit). Inventory unreachable: UNAVAILABLE and the order stays RESERVED; the reservation already
 * released: order-expired.
 */
export function createPayOrder({ inventory, changeOrder }: { inventory: InventoryPort; changeOrder: ChangeOrder }) {
  return (orderId: string, actor: Actor) =>
    changeOrder(
      orderId,
      actor,
      (order, now) => pay(order, actor, now),
      () =>
        inventory.prepareCommit(orderId).catch((error: unknown) => {
          throw error instanceof ReservationReleasedError ? new OrderExpiredError(orderId) : error;
        }),
    );
}
