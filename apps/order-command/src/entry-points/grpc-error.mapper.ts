import type { ServiceError } from '@grpc/grpc-js';
import { isDatabaseUnavailable } from '@orderflow/database';
import { errorContract, type ErrorDetails, type ErrorReason } from '@orderflow/proto';
import type { Logger } from '@orderflow/service-kit';
import { InsufficientStockError, InvalidArgumentError, InventoryOverloadedError, OrderError, PriceChangedError, UnknownProductError } from '../domain/errors';

/** The structured details of an order error, as the contract carries them. */
function detailsOf(error: OrderError): ErrorDetails {
  if (error instanceof InsufficientStockError) return { shortages: error.shortages };
  if (error instanceof PriceChangedError) return { currentPrices: error.prices };
  if (error instanceof InvalidArgumentError) return { violations: error.violations };
  if (error instanceof UnknownProductError) return { productIds: error.productIds };
  if (error instanceof InventoryOverloadedError) return { retryAfterMs: error.retryAfterMs };
  return {};
}

/** The one place order errors become gRPC statuses (libs/proto's error contract), with the reason and details in trailing metadata. */
export function toGrpcError(error: unknown, logger: Logger, method: string): Partial<ServiceError> {
  if (error instanceof OrderError) {
    const reason: ErrorReason = error.reason; // a reason the contract does not know is a compile error
    if (reason === 'unavailable') logger.warn({ err: error, method }, 'dependency unavailable');
    return errorContract.toServiceError(reason, error.message, detailsOf(error));
  }
  if (isDatabaseUnavailable(error)) {
    logger.warn({ err: error, method }, 'database unavailable');
    return errorContract.toServiceError('unavailable', 'a database shard is unavailable');
  }
  logger.error({ err: error, method }, 'unexpected error');
  return errorContract.internalError();
}
