import { status } from '@grpc/grpc-js';
import { errorContract, errorDetails } from '@orderflow/proto';
import { createLogger } from '@orderflow/service-kit';
import {
  ConflictError,
  DependencyUnavailableError,
  InsufficientStockError,
  OverloadedError,
  PriceChangedError,
  ProductNotFoundError,
  ReservationMismatchError,
  ReservationStateError,
  StockAdjustmentRefusedError,
} from '../domain/errors';
import { toGrpcError } from './grpc-error.mapper';

const logger = createLogger('inventory-mapper-spec', 'silent');
const map = (error: unknown) => toGrpcError(error, logger, 'Reserve');

describe('inventory gRPC error mapper', () => {
  it('when stock is short, then FAILED_PRECONDITION insufficient-stock carries each shortage', () => {
    const error = map(new InsufficientStockError([{ productId: 'p', requested: 3, available: 1 }]));
    expect([error.code, errorContract.reasonOf(error)]).toEqual([status.FAILED_PRECONDITION, 'insufficient-stock']);
    expect(errorDetails.readInsufficientStock(error.metadata)).toEqual([{ productId: 'p', requested: 3, available: 1 }]);
  });

  it('when an adjustment is refused, then it travels like a shortage of what was asked to go', () => {
    const error = map(new StockAdjustmentRefusedError('p', -5, 2));
    expect([error.code, errorContract.reasonOf(error)]).toEqual([status.FAILED_PRECONDITION, 'stock-adjustment-refused']);
    expect(errorDetails.readInsufficientStock(error.metadata)).toEqual([{ productId: 'p', requested: 5, available: 2 }]);
  });

  it('when products are unknown, then NOT_FOUND names them in structured details, not only in the message', () => {
    const error = map(new ProductNotFoundError(['a', 'b']));
    expect([error.code, errorContract.reasonOf(error), error.details]).toEqual([status.NOT_FOUND, 'not-found', 'unknown products: a, b']);
    expect(errorDetails.readProductIds(error.metadata)).toEqual(['a', 'b']);
  });

  it('when a price changed, then the mismatches travel; when a queue is full, then the retry hint does', () => {
    const mismatch = { productId: 'p', expectedUnitPriceMinor: 100, currentUnitPriceMinor: 120 };
    const changed = map(new PriceChangedError([mismatch]));
    expect([changed.code, errorContract.reasonOf(changed)]).toEqual([status.FAILED_PRECONDITION, 'price-changed']);
    expect(errorDetails.readPriceMismatches(changed.metadata)).toEqual([mismatch]);
    const overloaded = map(new OverloadedError('p', 300));
    expect([overloaded.code, errorContract.reasonOf(overloaded)]).toEqual([status.RESOURCE_EXHAUSTED, 'overloaded']);
    expect(errorDetails.readRetryAfterMs(overloaded.metadata)).toBe(300);
  });

  it('when a reservation refuses the operation, then each kind has its status', () => {
    const codeAndReason = (error: unknown) => [map(error).code, errorContract.reasonOf(map(error))];
    expect(codeAndReason(new ReservationStateError('o', 'RELEASED', 'commit'))).toEqual([status.FAILED_PRECONDITION, 'reservation-state']);
    expect(codeAndReason(new ReservationMismatchError('o'))).toEqual([status.ALREADY_EXISTS, 'reservation-mismatch']);
    expect(codeAndReason(new ConflictError('busy'))).toEqual([status.ABORTED, 'conflict']);
    expect(codeAndReason(new DependencyUnavailableError('redis'))).toEqual([status.UNAVAILABLE, 'unavailable']);
  });

  it('when the error is unexpected, then it is INTERNAL without a reason or its message', () => {
    const error = map(new Error('SELECT failed: secret'));
    expect([error.code, error.details, errorContract.reasonOf(error)]).toEqual([status.INTERNAL, 'internal error', undefined]);
  });
});
