import type { Reservation } from './model';
import type { Clock, InventoryStore, StockLocks } from './ports';
import type { ConflictRetries } from './conflict-retries';
import type { ReserveBatcher } from './reserve-batcher';
import { assertReservable, replayReserve } from './stock';
import { InventoryLimits, validateReserve } from './validation';

/**
 * How Reserve takes stock:
 * - batched: single-product Reserves of one product coalesce (one lock and one UPDATE per batch);
 *   multi-product ones take the locked path;
 * - locked: every Reserve locks its products and runs its own version-checked transaction.
 */
export type ReserveMode = 'batched' | 'locked';

export type ReserveInput = Parameters<typeof validateReserve>[0];

/** Reserve: all of an order's items or none, idempotent per order id. */
export function createReserve(deps: {
  store: InventoryStore;
  locks: StockLocks;
  clock: Clock;
  limits: InventoryLimits;
  withRetries: ConflictRetries;
  mode: ReserveMode;
  batcher: ReserveBatcher;
}) {
  const { store, locks, clock, limits, withRetries, mode, batcher } = deps;
  return async function reserve(input: ReserveInput): Promise<Reservation> {
    const command = validateReserve(input, limits, clock.now());
    // The hot path: the batch transaction itself checks for a stored reservation and for stock.
    if (mode === 'batched' && command.items.length === 1) return batcher.reserve(command);
    const existing = await store.findReservation(command.orderId);
    if (existing) return replayReserve(existing, command);

    // Pre-check: an order that cannot be filled now (or at the prices expected) is refused without a
    // transaction. Once before queueing for the locks, and again when its turn comes: in a flash sale
    // most of the queue finds the product sold out by then, and leaves after one read instead of a
    // transaction each. The transaction checks again.
    const refuseIfShort = async () => {
      const products = new Map((await store.getProducts(command.items.map((i) => i.productId))).map((p) => [p.id, p]));
      assertReservable(products, command);
    };
    await refuseIfShort();
    const { reservation, created } = await locks.withLocks(
      command.items.map((i) => i.productId),
      async () => {
        await refuseIfShort();
        return withRetries(() => store.reserveAttempt(command));
      },
    );
    return created ? reservation : replayReserve(reservation, command);
  };
}
