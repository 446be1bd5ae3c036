import { ConflictError, ReservationNotFoundError, ReservationStateError, VersionConflict } from './errors';
import type { Product, Reservation } from './model';
import type { Clock, InventoryStore, StockLocks } from './ports';
import { findShortages, replayReserve } from './stock';
import { InsufficientStockError } from './errors';
import { InventoryLimits, validateOrderId, validateProductIds, validateReserve, validateUpsert } from './validation';

export interface RetryPolicy {
  run<T>(work: () => Promise<T>, retryable: (error: unknown) => boolean): Promise<T>;
}

export interface InventoryDeps {
  store: InventoryStore;
  locks: StockLocks;
  clock: Clock;
  limits: InventoryLimits;
  /** Bounded backoff for conditional UPDATEs that lost a race. */
  retry: RetryPolicy;
}

const isVersionConflict = (error: unknown) => error instanceof VersionConflict;

/** The inventory use cases. Correctness comes from the store's conditional updates; locks keep conflicts rare. */
export function createInventoryUseCases({ store, locks, clock, limits, retry }: InventoryDeps) {
  /** Retries lost races; a conflict that outlasts the retries becomes a ConflictError (ABORTED). */
  const withRetries = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await retry.run(work, isVersionConflict);
    } catch (error) {
      if (error instanceof VersionConflict) throw new ConflictError(`too much contention on product ${error.productId}; try again`);
      throw error;
    }
  };

  return {
    async upsertProduct(input: { id: unknown; name: unknown; priceMinor: unknown; available: unknown }) {
      const command = validateUpsert(input, limits);
      return locks.withLocks([command.id], () => store.upsertProduct(command));
    },

    async getProducts(ids: unknown[]): Promise<{ products: Product[]; missing: string[] }> {
      const wanted = validateProductIds(ids, limits.maxItemsPerReservation);
      const products = await store.getProducts(wanted);
      const found = new Set(products.map((p) => p.id));
      return { products, missing: wanted.filter((id) => !found.has(id)) };
    },

    async reserve(input: Parameters<typeof validateReserve>[0]): Promise<Reservation> {
      const command = validateReserve(input, limits, clock.now());
      const existing = await store.findReservation(command.orderId);
      if (existing) return replayReserve(existing, command.items);

      // Pre-check: an order that cannot be filled now is refused without a transaction. Once before
      // queueing for the locks, and again when its turn comes: in a flash sale most of the queue finds
      // the product sold out by then, and leaves after one read instead of a transaction each.
      const refuseIfShort = async () => {
        const products = new Map((await store.getProducts(command.items.map((i) => i.productId))).map((p) => [p.id, p]));
        const shortages = findShortages(products, command.items);
        if (shortages.length > 0) throw new InsufficientStockError(shortages);
      };
      await refuseIfShort();
      const { reservation, created } = await locks.withLocks(command.items.map((i) => i.productId), async () => {
        await refuseIfShort();
        return withRetries(() => store.reserveAttempt(command));
      });
      return created ? reservation : replayReserve(reservation, command.items);
    },

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

    async release(orderId: unknown, reason: string): Promise<Reservation> {
      const id = validateOrderId(orderId);
      const existing = await store.findReservation(id);
      if (existing?.status === 'RELEASED') return existing;
      if (existing?.status === 'COMMITTED') throw new ReservationStateError(id, existing.status, 'release');
      const productIds = existing?.items.map((i) => i.productId) ?? [];
      return locks.withLocks(productIds, () => withRetries(() => store.releaseAttempt(id, reason || 'released')));
    },

    /** Releases reservations whose payment window has passed. Returns how many it released. */
    async releaseExpired(batchSize: number): Promise<number> {
      const expired = await store.findExpired(clock.now(), batchSize);
      let released = 0;
      for (const orderId of expired) {
        const reservation = await this.release(orderId, 'expired').catch((error: unknown) => {
          if (error instanceof ReservationStateError) return undefined; // committed meanwhile
          throw error;
        });
        if (reservation?.releaseReason === 'expired') released++;
      }
      return released;
    },
  };
}

export type InventoryUseCases = ReturnType<typeof createInventoryUseCases>;
