import { status } from '@grpc/grpc-js';
import { errorContract, errorDetails } from '@orderflow/proto';
import { createLogger } from '@orderflow/service-kit';
import { BucketMovingError } from '@orderflow/shard-control';
import {
  IdempotencyKeyInFlightError,
  InsufficientStockError,
  InvalidArgumentError,
  InventoryOverloadedError,
  OrderNotFoundError,
  PriceChangedError,
  UnknownProductError,
} from '../domain/errors';
import { BUCKET_MOVING_RETRY_AFTER_MS, toGrpcError } from './grpc-error.mapper';

const logger = createLogger('order-command-mapper-spec', 'silent');
const map = (error: unknown) => toGrpcError(error, logger, 'PlaceOrder');

describe('order-command gRPC error mapper', () => {
  it('when products are unknown, then NOT_FOUND unknown-product names them in structured details', () => {
    const error = map(new UnknownProductError(['mug2']));
    expect([error.code, errorContract.reasonOf(error)]).toEqual([status.NOT_FOUND, 'unknown-product']);
    expect(errorDetails.readProductIds(error.metadata)).toEqual(['mug2']);
  });

  it('when stock is short or a price changed, then FAILED_PRECONDITION carries the shortages or the current prices', () => {
    const short = map(new InsufficientStockError([{ productId: 'p', requested: 2, available: 1 }]));
    expect([short.code, errorContract.reasonOf(short)]).toEqual([status.FAILED_PRECONDITION, 'insufficient-stock']);
    expect(errorDetails.readInsufficientStock(short.metadata)).toEqual([{ productId: 'p', requested: 2, available: 1 }]);
    const price = { productId: 'p', requestedUnitPriceMinor: 1400, currentUnitPriceMinor: 1500 };
    const changed = map(new PriceChangedError([price]));
    expect([changed.code, errorContract.reasonOf(changed)]).toEqual([status.FAILED_PRECONDITION, 'price-changed']);
    expect(errorDetails.readPriceChanged(changed.metadata)).toEqual([price]);
  });

  it('when a write waited out its bound while its bucket was being moved, then UNAVAILABLE with a retry-after, never INTERNAL', () => {
    const error = map(new BucketMovingError(17, 5_000));
    expect([error.code, errorContract.reasonOf(error)]).toEqual([status.UNAVAILABLE, 'unavailable']);
    expect(errorDetails.readRetryAfterMs(error.metadata)).toBe(BUCKET_MOVING_RETRY_AFTER_MS);
  });

  it('when the request is invalid, then INVALID_ARGUMENT lists each field', () => {
    const error = map(new InvalidArgumentError([{ field: 'items', description: 'is required' }]));
    expect([error.code, errorContract.reasonOf(error), errorDetails.readFieldViolations(error.metadata)]).toEqual([
      status.INVALID_ARGUMENT,
      'invalid-argument',
      [{ field: 'items', description: 'is required' }],
    ]);
  });

  it('when inventory is busy, then RESOURCE_EXHAUSTED too-many-requests passes its retry hint on', () => {
    const error = map(new InventoryOverloadedError(700));
    expect([error.code, errorContract.reasonOf(error)]).toEqual([status.RESOURCE_EXHAUSTED, 'too-many-requests']);
    expect(errorDetails.readRetryAfterMs(error.metadata)).toBe(700);
  });

  it('when the order is missing or its key in flight, then NOT_FOUND and ABORTED with their reasons', () => {
    const missing = map(new OrderNotFoundError('42'));
    expect([missing.code, errorContract.reasonOf(missing)]).toEqual([status.NOT_FOUND, 'not-found']);
    const inFlight = map(new IdempotencyKeyInFlightError());
    expect([inFlight.code, errorContract.reasonOf(inFlight)]).toEqual([status.ABORTED, 'idempotency-key-in-flight']);
  });

  it('when the error is unexpected, then it is INTERNAL without a reason or its message', () => {
    const error = map(new Error('secret'));
    expect([error.code, error.details, errorContract.reasonOf(error)]).toEqual([status.INTERNAL, 'internal error', undefined]);
  });
});
