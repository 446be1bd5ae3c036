import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { errorDetails } from '@orderflow/proto';
import type { Logger } from '@orderflow/service-kit';
import { InsufficientStockError, InvalidArgumentError, InventoryError, OverloadedError, PriceChangedError, ProductNotFoundError, StockAdjustmentRefusedError } from '../domain/errors';

const STATUS_BY_KIND: Record<InventoryError['kind'], Status> = {
  'invalid-argument': Status.INVALID_ARGUMENT,
  'not-found': Status.NOT_FOUND,
  'insufficient-stock': Status.FAILED_PRECONDITION,
  'stock-adjustment-refused': Status.FAILED_PRECONDITION,
  'price-changed': Status.FAILED_PRECONDITION,
  'reservation-state': Status.FAILED_PRECONDITION,
  'reservation-mismatch': Status.ALREADY_EXISTS,
  conflict: Status.ABORTED,
  overloaded: Status.RESOURCE_EXHAUSTED,
  unavailable: Status.UNAVAILABLE,
};

function serviceError(code: Status, details: string, metadata = new Metadata()): Partial<ServiceError> {
  return { code, details, metadata, message: details };
}

/** The one place inventory errors become gRPC statuses. Unknown errors are logged and become INTERNAL. */
export function toGrpcError(error: unknown, logger: Logger, method: string): Partial<ServiceError> {
  if (error instanceof InventoryError) {
    const metadata = new Metadata();
    metadata.set(errorDetails.ERROR_REASON_KEY, error.kind);
    if (error instanceof InsufficientStockError) errorDetails.setInsufficientStock(metadata, error.shortages);
    // A refused adjustment travels like a shortage: the product, what was asked to go, what is there.
    if (error instanceof StockAdjustmentRefusedError) errorDetails.setInsufficientStock(metadata, [{ productId: error.productId, requested: -error.delta, available: error.available }]);
    if (error instanceof PriceChangedError) errorDetails.setPriceMismatches(metadata, error.mismatches);
    if (error instanceof InvalidArgumentError) errorDetails.setFieldViolations(metadata, error.violations);
    if (error instanceof ProductNotFoundError) errorDetails.setProductIds(metadata, error.productIds);
    if (error instanceof OverloadedError) errorDetails.setRetryAfterMs(metadata, error.retryAfterMs);
    if (error.kind === 'unavailable') logger.warn({ err: error, method }, 'dependency unavailable');
    return serviceError(STATUS_BY_KIND[error.kind], error.message, metadata);
  }
  logger.error({ err: error, method }, 'unexpected error');
  return serviceError(Status.INTERNAL, 'internal error');
}
