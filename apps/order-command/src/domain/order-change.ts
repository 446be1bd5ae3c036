import { InvalidTransitionError, OrderNotFoundError } from './errors';
import type { Actor, Order } from './model';
import type { OrderChange } from './order.aggregate';
import type { GetOrder } from './get-order.use-cases';
import type { Clock, OrderRepository, OutboxSignal } from './ports';
import type { SettleStock } from './stock-settlement';

export interface OrderChangeDeps {
  repository: OrderRepository;
  clock: Clock;
  outbox: OutboxSignal;
  getOrder: GetOrder;
  settleStock: SettleStock;
}

/**
 * How every status change is made: load the order (as the actor may see it; without an actor, the
 * system's own change, any order), let the aggregate decide (`decide`: one of its named functions),
 * run `prepare` once the change is allowed and before it is stored (if it throws, nothing changes),
 * store the change with its event, wake the relay, then settle the stock the change owes (after the
 * stored decision, never before it).
 */
export function createOrderChange({ repository, clock, outbox, getOrder, settleStock }: OrderChangeDeps) {
  return async function changeOrder(
    orderId: string,
    actor: Actor | undefined,
    decide: (order: Order, now: Date) => OrderChange,
    prepare?: () => Promise<void>,
  ): Promise<Order> {
    const order = actor ? await getOrder(orderId, actor) : await repository.get(orderId);
    if (!order) throw new OrderNotFoundError(orderId);
    const now = clock.now();
    const change = decide(order, now);
    if (change.kind === 'already') return change.order;
    await prepare?.();
    const updated = await repository.transition(orderId, change.spec, change.event, now);
    if (!updated) {
      // Someone else changed it first: the same change is success, another one is a conflict.
      const current = await repository.get(orderId);
      if (current?.status === change.spec.to) return current;
      throw new InvalidTransitionError(orderId, current?.status ?? order.status, change.transition);
    }
    outbox.notify();
    if (change.spec.stock) await settleStock(orderId, change.spec.stock, change.transition === 'expire' ? 'expired' : 'cancelled');
    return updated;
  };
}

export type ChangeOrder = ReturnType<typeof createOrderChange>;
