import type { ServiceError } from '@grpc/grpc-js';
import { isDatabaseUnavailable } from '@orderflow/database';
import { errorContract, type ErrorReason } from '@orderflow/proto';
import type { Logger } from '@orderflow/service-kit';
import { ShardOperationError } from '@orderflow/sharding';
import { InvalidArgumentError, OrderQueryError } from '../domain/errors';

/** The one place query errors become gRPC statuses (libs/proto's error contract), with the field violations in trailing metadata. */
export function toGrpcError(error: unknown, logger: Logger, method: string): Partial<ServiceError> {
  if (error instanceof OrderQueryError) {
    const reason: ErrorReason = error.reason; // a reason the contract does not know is a compile error
    if (reason === 'unavailable') logger.warn({ err: error, method }, 'dependency unavailable');
    return errorContract.toServiceError(reason, error.message, error instanceof InvalidArgumentError ? { violations: error.violations } : {});
  }
  // A listing across shards fails as a whole when a shard fails; an unreachable shard is still UNAVAILABLE.
  if (isDatabaseUnavailable(error) || (error instanceof ShardOperationError && error.errors.some(isDatabaseUnavailable))) {
    logger.warn({ err: error, method }, 'database unavailable');
    return errorContract.toServiceError('unavailable', 'a read shard is unavailable');
  }
  logger.error({ err: error, method }, 'unexpected error');
  return errorContract.internalError();
}
