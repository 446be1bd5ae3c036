import type { OrderStatus, PriceDifference, StockShortage } from './model';

export type OrderErrorReason =
  | 'invalid-argument'
  | 'not-found'
  | 'unknown-product'
  | 'insufficient-stock'
  | 'price-changed'
  | 'invalid-transition'
  | 'order-expired'
  | 'forbidden'
  | 'idempotency-key-in-flight'
  | 'idempotency-key-reused'
  | 'too-many-requests'
  | 'unavailable';

/** Every error the order domain means to tell a caller about; transports map `reason`. */
export abstract class OrderError extends Error {
  abstract readonly reason: OrderErrorReason;
}

export interface FieldViolation {
  field: string;
  description: string;
}

export class InvalidArgumentError extends OrderError {
  readonly reason = 'invalid-argument';
  constructor(readonly violations: FieldViolation[]) {
    super(violations.map((v) => `${v.field}: ${v.description}`).join('; '));
  }
}

/** Unknown order, or one the actor may not see: the two are indistinguishable on purpose. */
export class OrderNotFoundError extends OrderError {
  readonly reason = 'not-found';
  constructor(orderId: string) {
    super(`order ${orderId} not found`);
  }
}

export class UnknownProductError extends OrderError {
  readonly reason = 'unknown-product';
  constructor(readonly productIds: string[]) {
    super(`unknown product${productIds.length > 1 ? 's' : ''}: ${productIds.join(', ')}`);
  }
}

export class InsufficientStockError extends OrderError {
  readonly reason = 'insufficient-stock';
  constructor(readonly shortages: StockShortage[]) {
    super(`insufficient stock: ${shortages.map((s) => `${s.productId} (requested ${s.requested}, available ${s.available})`).join(', ')}`);
  }
}

export class PriceChangedError extends OrderError {
  readonly reason = 'price-changed';
  constructor(readonly prices: PriceDifference[]) {
    super(`price changed: ${prices.map((p) => `${p.productId} costs ${p.currentUnitPriceMinor}, not ${p.requestedUnitPriceMinor}`).join(', ')}`);
  }
}

export class InvalidTransitionError extends OrderError {
  readonly reason = 'invalid-transition';
  constructor(
    readonly orderId: string,
    readonly status: OrderStatus,
    readonly action: string,
  ) {
    super(`cannot ${action} order ${orderId}: it is ${status}`);
  }
}

export class OrderExpiredError extends OrderError {
  readonly reason = 'order-expired';
  constructor(orderId: string) {
    super(`order ${orderId} expired before it was paid`);
  }
}

export class ForbiddenError extends OrderError {
  readonly reason = 'forbidden';
}

export class IdempotencyKeyInFlightError extends OrderError {
  readonly reason = 'idempotency-key-in-flight';
  constructor() {
    super('a request with this idempotency key is still being processed; retry later');
  }
}

export class IdempotencyKeyReusedError extends OrderError {
  readonly reason = 'idempotency-key-reused';
  constructor() {
    super('this idempotency key was used with a different request body');
  }
}

/** Inventory refused at once because a product's queue is full: nothing was held or stored. Retry after `retryAfterMs`. */
export class InventoryOverloadedError extends OrderError {
  readonly reason = 'too-many-requests';
  constructor(
    readonly retryAfterMs: number,
    message = `inventory is busy; retry in ${retryAfterMs} ms`,
  ) {
    super(message);
  }
}

/** A dependency (inventory, MySQL) could not be reached or answered too late; nothing was stored. */
export class DependencyUnavailableError extends OrderError {
  readonly reason = 'unavailable';
  constructor(
    readonly dependency: string,
    cause?: unknown,
  ) {
    super(`${dependency} is unavailable`, { cause });
  }
}

/** Inventory holds this order id for another placement (two processes made the same id): try a fresh id. Internal. */
export class OrderIdTakenError extends Error {
  constructor(readonly orderId: string) {
    super(`order id ${orderId} is held by another placement`);
    this.name = 'OrderIdTakenError';
  }
}

/** Inventory no longer holds the order's stock (its reservation was released): the order cannot be paid. */
export class ReservationReleasedError extends Error {
  constructor(readonly orderId: string) {
    super(`inventory no longer holds the stock of order ${orderId}`);
    this.name = 'ReservationReleasedError';
  }
}
