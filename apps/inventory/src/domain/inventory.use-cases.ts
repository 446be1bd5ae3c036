import { RetryPolicy, withConflictRetries } from './conflict-retries';
import type { Clock, InventoryStore, StockLocks } from './ports';
import { createProductUseCases } from './products.use-cases';
import { ReserveBatcher } from './reserve-batcher';
import { createReserve, ReserveMode } from './reserve.use-case';
import { createSettleReservationUseCases } from './settle-reservation.use-cases';
import type { InventoryLimits } from './validation';

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
}

/** The inventory use cases. Correctness comes from the store's conditional updates; locks keep conflicts rare. */
export function createInventoryUseCases(deps: InventoryDeps) {
  const { store, locks, clock, limits, retry, mode = 'batched', maxBatch = 256, batchLanes = 4, maxQueuedPerLane } = deps;
  const withRetries = withConflictRetries(retry);
  const batcher = new ReserveBatcher(store, locks, retry, maxBatch, batchLanes, maxQueuedPerLane);
  return {
    ...createProductUseCases({ store, locks, limits, withRetries }),
    reserve: createReserve({ store, locks, clock, limits, withRetries, mode, batcher }),
    ...createSettleReservationUseCases({ store, locks, clock, withRetries }),
  };
}

export type InventoryUseCases = ReturnType<typeof createInventoryUseCases>;
