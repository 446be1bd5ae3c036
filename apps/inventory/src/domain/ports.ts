import type { AdjustStockCommand, PriceMismatch, Product, Reservation, ReserveCommand, StockAdjustment, UpsertProductCommand } from './model';
import type { BatchAllocation, BatchSnapshot } from './stock-allocation';

export type BatchOutcome =
  | { kind: 'reserved'; reservation: Reservation }
  | { kind: 'existing'; reservation: Reservation }
  | { kind: 'short'; available: number }
  | { kind: 'not-found' }
  | { kind: 'price-changed'; mismatches: PriceMismatch[] };

/**
 * Persistence the domain needs. Each `*Attempt` is one database transaction: it either applies
 * completely or throws (VersionConflict when a conditional UPDATE matched no row, so the caller may
 * run it again on fresh data; domain errors when the rules say no).
 */
export interface InventoryStore {
  upsertProduct(command: UpsertProductCommand): Promise<{ product: Product; created: boolean }>;
  getProducts(ids: string[]): Promise<Product[]>;
  findReservation(orderId: string): Promise<Reservation | undefined>;
  /** Returns the stored reservation; if the order id was taken meanwhile, returns that one instead. */
  reserveAttempt(command: ReserveCommand): Promise<{ reservation: Reservation; created: boolean }>;
  /**
   * One transaction for many single-product Reserves (the hot path), of one product or several: one
   * read (the products, which orders are stored), then what `allocate` decided from it: one
   * conditional UPDATE per take, multi-row inserts of the granted reservations. Outcomes in request
   * order; a stored order's is the reservation as stored.
   */
  reserveBatchAttempt(commands: ReserveCommand[], allocate: (snapshot: BatchSnapshot) => BatchAllocation): Promise<BatchOutcome[]>;
  /** RESERVED -> COMMITTED (reserved -> sold). Returns the reservation as it is afterwards. */
  commitAttempt(orderId: string): Promise<Reservation>;
  /**
   * Clears a RESERVED reservation's expiry (a payment is about to be recorded): the sweeper leaves it,
   * only Commit or Release end it. A COMMITTED one is returned as it is; RELEASED is ReservationStateError.
   */
  prepareCommitAttempt(orderId: string): Promise<Reservation>;
  /**
   * RESERVED -> RELEASED (reserved -> available); an unknown order gets a RELEASED marker. With
   * `expiredBefore` (the sweeper), only a reservation that still expires before it: one prepared for
   * commit meanwhile is ReservationStateError and stays held.
   */
  releaseAttempt(orderId: string, reason: string, options?: { expiredBefore?: Date }): Promise<Reservation>;
  /**
   * Adds the delta to available (and received) with one conditional UPDATE (version-checked, bounded by
   * available + delta >= 0) and records the adjustment in the same transaction. ProductNotFoundError,
   * StockAdjustmentRefusedError (would go negative), or VersionConflict (run again).
   */
  adjustStockAttempt(command: AdjustStockCommand): Promise<StockAdjustment>;
  /** Order ids of reservations still RESERVED whose expiry has passed. */
  findExpired(now: Date, limit: number): Promise<string[]>;
}

/** Mutual exclusion per product across every inventory process (Redlock). An optimisation only. */
export interface StockLocks {
  withLocks<T>(productIds: string[], work: () => Promise<T>): Promise<T>;
}

export interface Clock {
  now(): Date;
}

/** Settled reservations nobody asks about any more, deleted a bounded batch at a time. */
export interface ReservationRetentionStore {
  /**
   * Deletes up to `limit` COMMITTED and up to `limit` RELEASED reservations (with their items) settled
   * before `before`, oldest first; RESERVED ones are never touched. `more`: a status filled its batch.
   */
  purgeSettledReservations(before: Date, limit: number): Promise<{ deleted: number; more: boolean }>;
}
