import type { PriceMismatch, StockShortage } from './model';

/** Every error the inventory domain means to tell a caller about. Transports map `kind`, nothing else. */
export abstract class InventoryError extends Error {
  abstract readonly kind:
    | 'invalid-argument'
    | 'not-found'
    | 'insufficient-stock'
    | 'stock-adjustment-refused'
    | 'price-changed'
    | 'reservation-state'
    | 'reservation-mismatch'
    | 'conflict'
    | 'overloaded'
    | 'unavailable';
}

export interface FieldViolation {
  field: string;
  description: string;
}

export class InvalidArgumentError extends InventoryError {
  readonly kind = 'invalid-argument';
  constructor(readonly violations: FieldViolation[]) {
    super(violations.map((v) => `${v.field}: ${v.description}`).join('; '));
  }
}

export class ProductNotFoundError extends InventoryError {
  readonly kind = 'not-found';
  constructor(readonly productIds: string[]) {
    super(`unknown product${productIds.length > 1 ? 's' : ''}: ${productIds.join(', ')}`);
  }
}

export class ReservationNotFoundError extends InventoryError {
  readonly kind = 'not-found';
  constructor(readonly orderId: string) {
    super(`no reservation for order ${orderId}`);
  }
}

export class InsufficientStockError extends InventoryError {
  readonly kind = 'insufficient-stock';
  constructor(readonly shortages: StockShortage[]) {
    super(`insufficient stock: ${shortages.map((s) => `${s.productId} (requested ${s.requested}, available ${s.available})`).join(', ')}`);
  }
}

/** A negative adjustment larger than the available stock: nothing was changed. */
export class StockAdjustmentRefusedError extends InventoryError {
  readonly kind = 'stock-adjustment-refused';
  constructor(
    readonly productId: string,
    readonly delta: number,
    readonly available: number,
  ) {
    super(`cannot adjust the stock of ${productId} by ${delta}: only ${available} available`);
  }
}

/** A product's price is not the one the caller expected: nothing was reserved. */
export class PriceChangedError extends InventoryError {
  readonly kind = 'price-changed';
  constructor(readonly mismatches: PriceMismatch[]) {
    super(`price changed: ${mismatches.map((m) => `${m.productId} (expected ${m.expectedUnitPriceMinor}, now ${m.currentUnitPriceMinor})`).join(', ')}`);
  }
}

/** The reservation is in a state that does not allow the operation (commit after release, ...). */
export class ReservationStateError extends InventoryError {
  readonly kind = 'reservation-state';
  constructor(
    readonly orderId: string,
    readonly status: string,
    operation: string,
  ) {
    super(`cannot ${operation} the reservation of order ${orderId}: it is ${status}`);
  }
}

/** The order id already holds a reservation for other items: an id is reserved once. */
export class ReservationMismatchError extends InventoryError {
  readonly kind = 'reservation-mismatch';
  constructor(readonly orderId: string) {
    super(`order ${orderId} already has a reservation with other items`);
  }
}

/** The order id was reserved (or released) by another placement: two callers made the same id. */
export class ReservationTakenError extends InventoryError {
  readonly kind = 'reservation-mismatch';
  constructor(readonly orderId: string) {
    super(`order ${orderId} is reserved by another placement`);
  }
}

/** Too much contention: the conditional update kept losing, or the lock wait ran out. Safe to retry. */
export class ConflictError extends InventoryError {
  readonly kind = 'conflict';
}

/** A product's Reserve queue is full: refused at once, nothing was changed. Retry after `retryAfterMs`. */
export class OverloadedError extends InventoryError {
  readonly kind = 'overloaded';
  constructor(
    readonly productId: string,
    readonly retryAfterMs: number,
  ) {
    super(`too many reservations are waiting for product ${productId}; retry in ${retryAfterMs} ms`);
  }
}

/** Redis or MySQL cannot be reached; nothing was changed. */
export class DependencyUnavailableError extends InventoryError {
  readonly kind = 'unavailable';
  constructor(
    readonly dependency: 'redis' | 'mysql',
    cause?: unknown,
  ) {
    super(`${dependency} is unavailable`, { cause });
  }
}

/** A conditional UPDATE matched no row: someone changed the product since it was read. Internal. */
export class VersionConflict extends Error {
  constructor(readonly productId: string) {
    super(`version conflict on product ${productId}`);
  }
}
