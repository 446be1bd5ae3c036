import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { inventoryV1 } from '@orderflow/proto';
import type { Logger } from '@orderflow/service-kit';
import { InsufficientStockError, InvalidArgumentError, InventoryError } from '../domain/errors';

export const INSUFFICIENT_STOCK_METADATA_KEY = 'orderflow-insufficient-stock-bin';
export const FIELD_VIOLATIONS_METADATA_KEY = 'orderflow-field-violations';

const STATUS_BY_KIND: Record<InventoryError['kind'], Status> = {
  'invalid-argument': Status.INVALID_ARGUMENT,
  'not-found': Status.NOT_FOUND,
  'insufficient-stock': Status.FAILED_PRECONDITION,
  'reservation-state': Status.FAILED_PRECONDITION,
  'reservation-mismatch': Status.ALREADY_EXISTS,
  conflict: Status.ABORTED,
  unavailable: Status.UNAVAILABLE,
};

function serviceError(code: Status, details: string, metadata = new Metadata()): Partial<ServiceError> {
  return { code, details, metadata, message: details };
}

/** The one place inventory errors become gRPC statuses. Unknown errors are logged and become INTERNAL. */
export function toGrpcError(error: unknown, logger: Logger, method: string): Partial<ServiceError> {
  if (error instanceof InventoryError) {
    const metadata = new Metadata();
    if (error instanceof InsufficientStockError) {
      metadata.set(INSUFFICIENT_STOCK_METADATA_KEY, Buffer.from(inventoryV1.InsufficientStock.encode({ shortages: error.shortages }).finish()));
    }
    if (error instanceof InvalidArgumentError) {
      metadata.set(FIELD_VIOLATIONS_METADATA_KEY, JSON.stringify(error.violations));
    }
    if (error.kind === 'unavailable') logger.warn({ err: error, method }, 'dependency unavailable');
    return serviceError(STATUS_BY_KIND[error.kind], error.message, metadata);
  }
  logger.error({ err: error, method }, 'unexpected error');
  return serviceError(Status.INTERNAL, 'internal error');
}

/** Reads the shortages a FAILED_PRECONDITION from Reserve carries (for callers such as order-command). */
export function readInsufficientStock(metadata: Metadata | undefined): inventoryV1.StockShortage[] {
  const [value] = metadata?.get(INSUFFICIENT_STOCK_METADATA_KEY) ?? [];
  return value instanceof Buffer ? inventoryV1.InsufficientStock.decode(value).shortages : [];
}
