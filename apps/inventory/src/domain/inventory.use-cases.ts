import { ConflictError, ReservationNotFoundError, ReservationStateError, VersionConflict } from './errors';
import type { Product, Reservation, StockAdjustment } from './model';
import type { Clock, InventoryStore, StockLocks } from './ports';
import { assertReservable, replayReserve } from './stock';
import { ReserveBatcher } from './reserve-batcher';
import { InventoryLimits, validateAdjustStock, validateOrderId, validateProductIds, validateReserve, validateUpsert } from './validation';

export interface RetryPolicy {
  run<T>(work: () => Promise<T>, retryable: (error: unknown) => boolean): Promise<T>;
}

/**
 * How Reserve takes stock:
 * - batched: single-product Reserves of one product coalesce (one lock and one UPDATE per batch);
 *   multi-product ones take the locked path;
 * - locked: every Reserve locks its products and runs its own version-checked transaction;
 * - optimistic: no lock, read then version-checked UPDATE, retried on conflict (the naive baseline).
 */
export type ReserveMode = 'batched' | 'locked' | 'optimistic';

export interface InventoryDeps {
  store: InventoryStore;
  locks: StockLocks;
  clock: Clock;
  limits: InventoryLimits;
  /** Bounded backoff for conditional UPDATEs that lost a race. */
  retry: RetryPolicy;
  mode?: ReserveMode;
  maxBatch?: number;
  /** How many batches may be in flight at once (products hash to lanes). */
  batchLanes?: number;
  /** Requests that may wait in one lane's queue; beyond it a Reserve is refused at once (OverloadedError). */
  maxQueuedPerLane?: number;
  /** The optimistic mode's retry policy: many attempts, since it has no lock to keep conflicts rare. */
  optimisticRetry?: RetryPolicy;
}

const isVersionConflict = (error: unknown) => error instanceof VersionConflict;

/** The inventory use cases. Correctness comes from the store's conditional updates; locks keep conflicts rare. */
export function createInventoryUseCases({ store, locks, clock, limits, retry, mode = 'batched', maxBatch = 256, batchLanes = 4, maxQueuedPerLane, optimisticRetry = retry }: InventoryDeps) {
  const batcher = new ReserveBatcher(store, locks, retry, maxBatch, batchLanes, maxQueuedPerLane);
  /** Retries lost races; a conflict that outlasts the retries becomes a ConflictError (ABORTED). */
  const withRetries = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await retry.run(work, isVersionConflict);
    } catch (error) {
      if (error instanceof VersionConflict) throw new ConflictError(`too much contention on product ${error.productId}; try again`);
      throw error;
    }
  };

  const releaseChecked = async (id: string, reason: string, expiredBefore?: Date): Promise<Reservation> => {
    const existing = await store.findReservation(id);
    if (existing?.status === 'RELEASED') return existing;
    if (existing?.status === 'COMMITTED') throw new ReservationStateError(id, existing.status, 'release');
    const productIds = existing?.items.map((i) => i.productId) ?? [];
    return locks.withLocks(productIds, () => withRetries(() => store.releaseAttempt(id, reason, expiredBefore ? { expiredBefore } : undefined)));
  };

  return {
    async upsertProduct(input: { id: unknown; name: unknown; priceMinor: unknown; available: unknown }) {
      const command = validateUpsert(input, limits);
      return locks.withLocks([command.id], () => store.upsertProduct(command));
    },

    /**
     * An admin's stock change by a delta, with its reason. Under the product's lock (which Reserve, Commit
     * and Release take too), one version-checked UPDATE bounded by available + delta >= 0: a concurrent
     * reservation either happened before (then the bound sees it) or makes the version check fail and
     * the adjustment run again on fresh data. Never negative, never a lost update.
     */
    async adjustStock(input: Parameters<typeof validateAdjustStock>[0]): Promise<StockAdjustment> {
      const command = validateAdjustStock(input, limits);
      return locks.withLocks([command.productId], () => withRetries(() => store.adjustStockAttempt(command)));
    },

    async getProducts(ids: unknown[]): Promise<{ products: Product[]; missing: string[] }> {
      const wanted = validateProductIds(ids, limits.maxItemsPerReservation);
      const products = await store.getProducts(wanted);
      const found = new Set(products.map((p) => p.id));
      return { products, missing: wanted.filter((id) => !found.has(id)) };
    },

    async reserve(input: Parameters<typeof validateReserve>[0]): Promise<Reservation> {
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
      if (mode === 'optimistic') {
        const { reservation, created } = await optimisticRetry.run(() => store.reserveAttempt(command), isVersionConflict).catch((error: unknown) => {
          throw error instanceof VersionConflict ? new ConflictError(`too much contention on product ${error.productId}; try again`) : error;
        });
        return created ? reservation : replayReserve(reservation, command);
      }
      const { reservation, created } = await locks.withLocks(command.items.map((i) => i.productId), async () => {
        await refuseIfShort();
        return withRetries(() => store.reserveAttempt(command));
      });
      return created ? reservation : replayReserve(reservation, command);
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

export type InventoryUseCases = ReturnType<typeof createInventoryUseCases>;
