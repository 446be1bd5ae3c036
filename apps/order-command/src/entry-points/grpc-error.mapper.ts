import type { ServiceError } from '@grpc/grpc-js';
import { isDatabaseUnavailable } from '@orderflow/database';
import { errorContract, type ErrorDetails, type ErrorReason } from '@orderflow/proto';
import type { Logger } from '@orderflow/service-kit';
import { BucketMovingError } from '@orderflow/shard-control';
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

/** A bucket's switch between shards lasts a moment (a move's fence lease is 2 s by default): retry after this. */
export const BUCKET_MOVING_RETRY_AFTER_MS = 1_000;

/** The one place order errors become gRPC statuses (libs/proto's error contract), with the reason and details in trailing metadata. */
export function toGrpcError(error: unknown, logger: Logger, method: string): Partial<ServiceError> {
  if (error instanceof OrderError) {
    const reason: ErrorReason = error.reason; // a reason the contract does not know is a compile error
    if (reason === 'unavailable') logger.warn({ err: error, method }, 'dependency unavailable');
    return errorContract.toServiceError(reason, error.message, detailsOf(error));
  }
  if (error instanceof BucketMovingError) {
    // Nothing was written: the bucket's writes stayed fenced for longer than this call could wait.
    logger.warn({ err: error, method, bucket: error.bucket }, 'bucket being moved between shards');
    return errorContract.toServiceError('unavailable', 'the order shard is being moved; retry shortly', { retryAfterMs: BUCKET_MOVING_RETRY_AFTER_MS });
  }
  if (isDatabaseUnavailable(error)) {
    logger.warn({ err: error, method }, 'database unavailable');
    return errorContract.toServiceError('unavailable', 'a database shard is unavailable');
  }
  logger.error({ err: error, method }, 'unexpected error');
  return errorContract.internalError();
}
