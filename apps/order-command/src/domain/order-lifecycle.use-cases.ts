import { randomUUID } from 'node:crypto';
import { ForbiddenError, InvalidArgumentError, InvalidTransitionError, OrderExpiredError, OrderNotFoundError, ReservationReleasedError } from './errors';
import { Actor, Order, OrderHistoryEntry, StockAction, VISIBLE_STATUSES } from './model';
import { transitionNote } from './order-history';
import { checkTransition, Transition, TRANSITIONS } from './order-state-machine';
import type { OrderUseCaseDeps } from './ports';
import { validateActor } from './validation';

export interface OrderLifecycleDeps extends OrderUseCaseDeps {
  /** A placement still PENDING after this long is given up (its process died mid-way). */
  pendingTimeoutMs: number;
  /** Owed Commit/Release older than this are retried by the settler. */
  settleAfterMs: number;
}

/** Get, pay, cancel, ship; and the sweeps: expiry, abandoned placements, owed stock settlements. */
export function createOrderLifecycle({ repository, inventory, ids, clock, outbox, log, pendingTimeoutMs, settleAfterMs }: OrderLifecycleDeps) {
  const getVisible = async (orderId: string, actor: Actor): Promise<Order> => {
    validateActor(actor);
    if (typeof orderId !== 'string' || !ids.isValid(orderId)) {
      throw new InvalidArgumentError([{ field: 'order_id', description: 'must be an order id (a decimal 64-bit number)' }]);
    }
    const order = await repository.get(orderId);
    // Another customer's order is "not found": its existence is not revealed.
    if (!order || !VISIBLE_STATUSES.includes(order.status) || (!actor.admin && order.customerId !== actor.customerId)) {
      throw new OrderNotFoundError(orderId);
    }
    return order;
  };

  /** Commit or Release once the state change is stored; on failure the settler retries (both are idempotent). */
  const settle = async (orderId: string, action: StockAction, reason: string): Promise<boolean> => {
    try {
      if (action === 'COMMIT') await inventory.commit(orderId);
      else await inventory.release(orderId, reason);
      await repository.markStockSettled(orderId);
      return true;
    } catch (error) {
      log.warn({ err: error, orderId, action }, 'stock settlement failed; the settler will retry');
      return false;
    }
  };

  /** One item of a sweep: its failure is logged and counted as not done, and the sweep goes on. */
  const alone = async (orderId: string, step: string, work: () => Promise<boolean>): Promise<boolean> => {
    try {
      return await work();
    } catch (error) {
      log.warn({ err: error, orderId, step }, 'sweep item failed; the next sweep retries it');
      return false;
    }
  };

  /**
   * `actor` undefined: the system's own change (the sweeper), with no ownership check. `prepare` runs
   * once the change is allowed and before it is stored; if it throws, nothing changes.
   */
  const change = async (transition: Transition, orderId: string, actor: Actor | undefined, prepare?: () => Promise<void>): Promise<Order> => {
    const spec = TRANSITIONS[transition];
    const order = actor ? await getVisible(orderId, actor) : await repository.get(orderId);
    if (!order) throw new OrderNotFoundError(orderId);
    const now = clock.now();
    if (checkTransition(order, transition, now) === 'already') return order;
    await prepare?.();
    const updated = await repository.transition(
      orderId,
      spec,
      (after) => ({ eventId: randomUUID(), kind: spec.event, order: after, occurredAt: now, ...transitionNote(transition, actor) }),
      now,
    );
    if (!updated) {
      // Someone else changed it first: the same change is success, another one is a conflict.
      const current = await repository.get(orderId);
      if (current?.status === spec.to) return current;
      throw new InvalidTransitionError(orderId, current?.status ?? order.status, transition);
    }
    outbox.notify();
    if (spec.stock) await settle(orderId, spec.stock, transition === 'expire' ? 'expired' : 'cancelled');
    return updated;
  };

  return {
    getOrder: getVisible,

    /** Every visible status change of an order the actor may see, oldest first. */
    async getOrderHistory(orderId: string, actor: Actor): Promise<OrderHistoryEntry[]> {
      await getVisible(orderId, actor);
      return (await repository.history(orderId)).filter((entry) => VISIBLE_STATUSES.includes(entry.status));
    },

    /**
     * Pins the reservation in inventory first, so inventory's sweeper can no longer release the stock
     * of an order about to be PAID (ADR 0005); then records PAID and commits (the settler retries the
     * commit). Inventory unreachable: UNAVAILABLE and the order stays RESERVED; the reservation already
     * released: order-expired.
     */
    payOrder: (orderId: string, actor: Actor) =>
      change('pay', orderId, actor, () =>
        inventory.prepareCommit(orderId).catch((error: unknown) => {
          throw error instanceof ReservationReleasedError ? new OrderExpiredError(orderId) : error;
        }),
      ),

    cancelOrder: (orderId: string, actor: Actor) => change('cancel', orderId, actor),

    shipOrder: (orderId: string, actor: Actor) => {
      if (!actor?.admin) throw new ForbiddenError('only an admin can ship an order');
      return change('ship', orderId, actor);
    },

    /** Expires unpaid orders past their window; returns how many it expired. Each order fails alone. */
    async expireDue(limit: number): Promise<number> {
      let expired = 0;
      for (const orderId of await repository.findExpired(clock.now(), limit)) {
        const done = await alone(orderId, 'expire', async () => {
          const order = await change('expire', orderId, undefined).catch((error: unknown) => {
            if (error instanceof InvalidTransitionError) return undefined; // paid or cancelled meanwhile
            throw error;
          });
          return order?.status === 'EXPIRED';
        });
        if (done) expired++;
      }
      return expired;
    },

    /** Gives up placements whose process died between claiming the id and storing the order. */
    async failAbandoned(limit: number): Promise<number> {
      const stale = await repository.findStalePending(new Date(clock.now().getTime() - pendingTimeoutMs), limit);
      let failed = 0;
      for (const { orderId, customerId } of stale) {
        // Only if it is still PENDING: a placement that completed meanwhile keeps its stock.
        const done = await alone(orderId, 'fail-abandoned', async () => {
          if (!(await repository.failPlacement(orderId, customerId, { owesRelease: true }))) return false;
          await settle(orderId, 'RELEASE', 'placement-failed');
          return true;
        });
        if (done) failed++;
      }
      return failed;
    },

    /** Retries Commit/Release owed to inventory. Each order fails alone (settle logs and moves on). */
    async settleOwed(limit: number): Promise<number> {
      let settled = 0;
      for (const { orderId, action } of await repository.findUnsettled(new Date(clock.now().getTime() - settleAfterMs), limit)) {
        if (await alone(orderId, 'settle', () => settle(orderId, action, 'settled-late'))) settled++;
      }
      return settled;
    },
  };
}

export type OrderLifecycle = ReturnType<typeof createOrderLifecycle>;
