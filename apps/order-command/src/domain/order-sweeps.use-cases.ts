import { InvalidTransitionError } from './errors';
import { expire } from './order.aggregate';
import type { ChangeOrder } from './order-change';
import type { Clock, Log, OrderRepository } from './ports';
import type { SettleStock } from './stock-settlement';

export interface OrderSweepsDeps {
  repository: OrderRepository;
  clock: Clock;
  log: Log;
  changeOrder: ChangeOrder;
  settleStock: SettleStock;
  /** A placement still PENDING after this long is given up (its process died mid-way). */
  pendingTimeoutMs: number;
  /** Owed Commit/Release older than this are retried by the settler. */
  settleAfterMs: number;
}

/**
 * The safety net the sweeper runs: expiry, abandoned placements, owed stock settlements. Each returns how
 * many orders it handled; inside one, each order fails alone (logged; the next sweep retries it).
 */
export function createOrderSweeps({ repository, clock, log, changeOrder, settleStock, pendingTimeoutMs, settleAfterMs }: OrderSweepsDeps) {
  const alone = async (orderId: string, step: string, work: () => Promise<boolean>): Promise<boolean> => {
    try {
      return await work();
    } catch (error) {
      log.warn({ err: error, orderId, step }, 'sweep item failed; the next sweep retries it');
      return false;
    }
  };

  return {
    /** Expires unpaid orders past their window. */
    async expireDue(limit: number): Promise<number> {
      let expired = 0;
      for (const orderId of await repository.findExpired(clock.now(), limit)) {
        const done = await alone(orderId, 'expire', async () => {
          const order = await changeOrder(orderId, undefined, expire).catch((error: unknown) => {
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
          await settleStock(orderId, 'RELEASE', 'placement-failed');
          return true;
        });
        if (done) failed++;
      }
      return failed;
    },

    /** Retries Commit/Release owed to inventory (settleStock logs a failure and the next order goes on). */
    async settleOwed(limit: number): Promise<number> {
      let settled = 0;
      for (const { orderId, action } of await repository.findUnsettled(new Date(clock.now().getTime() - settleAfterMs), limit)) {
        if (await alone(orderId, 'settle', () => settleStock(orderId, action, 'settled-late'))) settled++;
      }
      return settled;
    },
  };
}
