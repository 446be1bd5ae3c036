import { ReservationNotFoundError, ReservationStateError } from './errors';
import type { Reservation } from './model';
import type { Clock, InventoryStore, StockLocks } from './ports';
import type { ConflictRetries } from './conflict-retries';
import { validateOrderId } from './validation';

/** How a reservation ends: Commit (sold), Release (given back), the sweeper's release of expired ones; PrepareCommit pins it first. */
export function createSettleReservationUseCases(deps: { store: InventoryStore; locks: StockLocks; clock: Clock; withRetries: ConflictRetries }) {
  const { store, locks, clock, withRetries } = deps;
  const releaseChecked = async (id: string, reason: string, expiredBefore?: Date): Promise<Reservation> => {
    const existing = await store.findReservation(id);
    if (existing?.status === 'RELEASED') return existing;
    if (existing?.status === 'COMMITTED') throw new ReservationStateError(id, existing.status, 'release');
    const productIds = existing?.items.map((i) => i.productId) ?? [];
    return locks.withLocks(productIds, () => withRetries(() => store.releaseAttempt(id, reason, expiredBefore ? { expiredBefore } : undefined)));
  };

  return {
    async commit(orderId: unknown): Promise<Reservation> {
      const id = validateOrderId(orderId);
      const existing = await store.findReservation(id);
      if (!existing) throw new ReservationNotFoundError(id);
      if (existing.status === 'COMMITTED') return existing;
      if (existing.status === 'RELEASED') throw new ReservationStateError(id, existing.status, 'commit');
      return locks.withLocks(
        existing.items.map((i) => i.productId),
        () => withRetries(() => store.commitAttempt(id)),
      );
    },

    /**
     * Pins the reservation of an order whose payment is about to be recorded: it no longer expires, so
     * the sweeper never releases it; order-command ends it with Commit (paid) or Release (cancelled or
     * expired by order-command itself). A paid order's stock is never put on sale again (ADR 0005).
     */
    async prepareCommit(orderId: unknown): Promise<Reservation> {
      const id = validateOrderId(orderId);
      const existing = await store.findReservation(id);
      if (!existing) throw new ReservationNotFoundError(id);
      if (existing.status === 'COMMITTED' || (existing.status === 'RESERVED' && !existing.expiresAt)) return existing;
      if (existing.status === 'RELEASED') throw new ReservationStateError(id, existing.status, 'prepare the commit of');
      // The row lock in the attempt serializes with a sweeper's release of the same reservation.
      return store.prepareCommitAttempt(id);
    },

    async release(orderId: unknown, reason: string): Promise<Reservation> {
      return releaseChecked(validateOrderId(orderId), reason || 'released');
    },

    /**
     * Releases reservations whose payment window has passed. Returns how many it released. Each one
     * fails alone: its error goes to `onFailure` and the others are still released.
     */
    async releaseExpired(batchSize: number, onFailure: (orderId: string, error: unknown) => void = () => undefined): Promise<number> {
      const now = clock.now();
      const expired = await store.findExpired(now, batchSize);
      let released = 0;
      for (const orderId of expired) {
        const reservation = await releaseChecked(orderId, 'expired', now).catch((error: unknown) => {
          if (!(error instanceof ReservationStateError)) onFailure(orderId, error); // else committed or prepared meanwhile
          return undefined;
        });
        if (reservation?.releaseReason === 'expired') released++;
      }
      return released;
    },
  };
}
