import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { PriceMismatch, StockShortage } from './generated/orderflow/inventory/v1/inventory';
import type { CurrentPrice } from './generated/orderflow/order/v1/order_command_service';
import {
  ERROR_REASON_KEY,
  errorReason,
  type FieldViolation,
  setFieldViolations,
  setInsufficientStock,
  setPriceChanged,
  setPriceMismatches,
  setProductIds,
  setRetryAfterMs,
} from './error-details';

/**
 * The typed error contract between the services: every reason a service sends (in trailing metadata,
 * under ERROR_REASON_KEY) with the one gRPC status it travels with. The strings are the wire format:
 * replicas of two versions talk during a rolling deploy, so a reason is added, never renamed.
 */
export const ERROR_REASON_STATUS = {
  'invalid-argument': status.INVALID_ARGUMENT,
  'invalid-page-token': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  'unknown-product': status.NOT_FOUND,
  'insufficient-stock': status.FAILED_PRECONDITION,
  'stock-adjustment-refused': status.FAILED_PRECONDITION,
  'price-changed': status.FAILED_PRECONDITION,
  'reservation-state': status.FAILED_PRECONDITION,
  'invalid-transition': status.FAILED_PRECONDITION,
  'order-expired': status.FAILED_PRECONDITION,
  'idempotency-key-reused': status.FAILED_PRECONDITION,
  'reservation-mismatch': status.ALREADY_EXISTS,
  'idempotency-key-in-flight': status.ABORTED,
  conflict: status.ABORTED,
  forbidden: status.PERMISSION_DENIED,
  'permission-denied': status.PERMISSION_DENIED,
  overloaded: status.RESOURCE_EXHAUSTED,
  'too-many-requests': status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
} as const satisfies Record<string, status>;

/** A reason that crosses a service boundary. */
export type ErrorReason = keyof typeof ERROR_REASON_STATUS;

export const ERROR_REASONS = Object.keys(ERROR_REASON_STATUS) as ErrorReason[];

export function isErrorReason(value: unknown): value is ErrorReason {
  return typeof value === 'string' && Object.hasOwn(ERROR_REASON_STATUS, value);
}

/**
 * What an error tells beyond its reason, each in metadata of its own: the products short of stock (a
 * refused stock adjustment travels as one), the catalog prices (order-command) or the mismatched ones
 * (inventory's Reserve), the products an error is about (the unknown ones), the bad fields, and how
 * long to wait before a retry.
 */
export interface ErrorDetails {
  shortages?: StockShortage[];
  currentPrices?: CurrentPrice[];
  priceMismatches?: PriceMismatch[];
  productIds?: string[];
  violations?: FieldViolation[];
  retryAfterMs?: number;
}

/** A gRPC error for a server's callback: the reason's status, `message` as its details, the reason and details in trailing metadata. */
export function toServiceError(reason: ErrorReason, message: string, details: ErrorDetails = {}): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set(ERROR_REASON_KEY, reason);
  if (details.shortages) setInsufficientStock(metadata, details.shortages);
  if (details.currentPrices) setPriceChanged(metadata, details.currentPrices);
  if (details.priceMismatches) setPriceMismatches(metadata, details.priceMismatches);
  if (details.violations) setFieldViolations(metadata, details.violations);
  if (details.productIds) setProductIds(metadata, details.productIds);
  if (details.retryAfterMs !== undefined) setRetryAfterMs(metadata, details.retryAfterMs);
  return { code: ERROR_REASON_STATUS[reason], details: message, message, metadata };
}

/** INTERNAL without a reason: what a server answers for an error it did not expect (logged, never described). */
export function internalError(): Partial<ServiceError> {
  return { code: status.INTERNAL, details: 'internal error', message: 'internal error', metadata: new Metadata() };
}

/**
 * The reason of an error a client got, when it is one this contract knows (undefined for none, for a
 * reason a newer replica added, and for anything that is not a gRPC error).
 */
export function reasonOf(error: unknown): ErrorReason | undefined {
  const metadata = (error as { metadata?: Metadata } | null | undefined)?.metadata;
  const reason = typeof metadata?.get === 'function' ? errorReason(metadata) : undefined;
  return isErrorReason(reason) ? reason : undefined;
}
