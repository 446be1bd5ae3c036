import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { isDatabaseUnavailable } from '@orderflow/database';
import { errorDetails } from '@orderflow/proto';
import type { Logger } from '@orderflow/service-kit';
import { InsufficientStockError, InvalidArgumentError, InventoryOverloadedError, OrderError, OrderErrorReason, PriceChangedError, UnknownProductError } from '../domain/errors';

const STATUS_BY_REASON: Record<OrderErrorReason, Status> = {
  'invalid-argument': Status.INVALID_ARGUMENT,
  'not-found': Status.NOT_FOUND,
  'unknown-product': Status.NOT_FOUND,
  'insufficient-stock': Status.FAILED_PRECONDITION,
  'price-changed': Status.FAILED_PRECONDITION,
  'invalid-transition': Status.FAILED_PRECONDITION,
  'order-expired': Status.FAILED_PRECONDITION,
  forbidden: Status.PERMISSION_DENIED,
  'idempotency-key-in-flight': Status.ABORTED,
  'idempotency-key-reused': Status.FAILED_PRECONDITION,
  'too-many-requests': Status.RESOURCE_EXHAUSTED,
  unavailable: Status.UNAVAILABLE,
};

/** The one place order errors become gRPC statuses, with the reason and details in trailing metadata. */
export function toGrpcError(error: unknown, logger: Logger, method: string): Partial<ServiceError> {
  const metadata = new Metadata();
  if (error instanceof OrderError) {
    metadata.set(errorDetails.ERROR_REASON_KEY, error.reason);
    if (error instanceof InsufficientStockError) errorDetails.setInsufficientStock(metadata, error.shortages);
    if (error instanceof PriceChangedError) errorDetails.setPriceChanged(metadata, error.prices);
    if (error instanceof InvalidArgumentError) errorDetails.setFieldViolations(metadata, error.violations);
    if (error instanceof UnknownProductError) errorDetails.setProductIds(metadata, error.productIds);
    if (error instanceof InventoryOverloadedError) errorDetails.setRetryAfterMs(metadata, error.retryAfterMs);
    if (error.reason === 'unavailable') logger.warn({ err: error, method }, 'dependency unavailable');
    return { code: STATUS_BY_REASON[error.reason], details: error.message, message: error.message, metadata };
  }
  if (isDatabaseUnavailable(error)) {
    logger.warn({ err: error, method }, 'database unavailable');
    metadata.set(errorDetails.ERROR_REASON_KEY, 'unavailable');
    return { code: Status.UNAVAILABLE, details: 'a database shard is unavailable', message: 'unavailable', metadata };
  }
  logger.error({ err: error, method }, 'unexpected error');
  return { code: Status.INTERNAL, details: 'internal error', message: 'internal error', metadata };
}
