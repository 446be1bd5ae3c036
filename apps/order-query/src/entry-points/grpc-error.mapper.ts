import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { isDatabaseUnavailable } from '@orderflow/database';
import { errorDetails } from '@orderflow/proto';
import type { Logger } from '@orderflow/service-kit';
import { ShardOperationError } from '@orderflow/sharding';
import { InvalidArgumentError, OrderQueryError, OrderQueryErrorReason } from '../domain/errors';

const STATUS_BY_REASON: Record<OrderQueryErrorReason, Status> = {
  'invalid-argument': Status.INVALID_ARGUMENT,
  'invalid-page-token': Status.INVALID_ARGUMENT,
  'not-found': Status.NOT_FOUND,
  'permission-denied': Status.PERMISSION_DENIED,
  unavailable: Status.UNAVAILABLE,
};

/** The one place query errors become gRPC statuses, with the reason (and field violations) in trailing metadata. */
export function toGrpcError(error: unknown, logger: Logger, method: string): Partial<ServiceError> {
  const metadata = new Metadata();
  if (error instanceof OrderQueryError) {
    metadata.set(errorDetails.ERROR_REASON_KEY, error.reason);
    if (error instanceof InvalidArgumentError) errorDetails.setFieldViolations(metadata, error.violations);
    if (error.reason === 'unavailable') logger.warn({ err: error, method }, 'dependency unavailable');
    return { code: STATUS_BY_REASON[error.reason], details: error.message, message: error.message, metadata };
  }
  // A listing across shards fails as a whole when a shard fails; an unreachable shard is still UNAVAILABLE.
  if (isDatabaseUnavailable(error) || (error instanceof ShardOperationError && error.errors.some(isDatabaseUnavailable))) {
    logger.warn({ err: error, method }, 'database unavailable');
    metadata.set(errorDetails.ERROR_REASON_KEY, 'unavailable');
    return { code: Status.UNAVAILABLE, details: 'a read shard is unavailable', message: 'unavailable', metadata };
  }
  logger.error({ err: error, method }, 'unexpected error');
  return { code: Status.INTERNAL, details: 'internal error', message: 'internal error', metadata };
}
