import type { ServiceError } from '@grpc/grpc-js';
import { errorContract, type ErrorDetails, type ErrorReason } from '@orderflow/proto';
import type { Logger } from '@orderflow/service-kit';
import {
  InsufficientStockError,
  InvalidArgumentError,
  InventoryError,
  OverloadedError,
  PriceChangedError,
  ProductNotFoundError,
  StockAdjustmentRefusedError,
} from '../domain/errors';

/** The structured details of an inventory error, as the contract carries them. */
function detailsOf(error: InventoryError): ErrorDetails {
  if (error instanceof InsufficientStockError) return { shortages: error.shortages };
  // A refused adjustment travels like a shortage: the product, what was asked to go, what is there.
  if (error instanceof StockAdjustmentRefusedError) return { shortages: [{ productId: error.productId, requested: -error.delta, available: error.available }] };
  if (error instanceof PriceChangedError) return { priceMismatches: error.mismatches };
  if (error instanceof InvalidArgumentError) return { violations: error.violations };
  if (error instanceof ProductNotFoundError) return { productIds: error.productIds };
  if (error instanceof OverloadedError) return { retryAfterMs: error.retryAfterMs };
  return {};
}

/** The one place inventory errors become gRPC statuses (libs/proto's error contract). Unknown errors are logged and become INTERNAL. */
export function toGrpcError(error: unknown, logger: Logger, method: string): Partial<ServiceError> {
  if (error instanceof InventoryError) {
    const reason: ErrorReason = error.kind; // a kind the contract does not know is a compile error
    if (reason === 'unavailable') logger.warn({ err: error, method }, 'dependency unavailable');
    return errorContract.toServiceError(reason, error.message, detailsOf(error));
  }
  logger.error({ err: error, method }, 'unexpected error');
  return errorContract.internalError();
}
