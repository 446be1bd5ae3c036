import { Metadata, status } from '@grpc/grpc-js';
import { errorContract, errorDetails } from './index';

describe('the error contract between services', () => {
  it('when a server writes a reason with details, then the error has the reason’s status and a client reads the reason and every detail back', () => {
    const error = errorContract.toServiceError('insufficient-stock', 'insufficient stock: p', {
      shortages: [{ productId: 'p', requested: 3, available: 1 }],
      currentPrices: [{ productId: 'p', requestedUnitPriceMinor: 100, currentUnitPriceMinor: 120 }],
      priceMismatches: [{ productId: 'q', expectedUnitPriceMinor: 5, currentUnitPriceMinor: 7 }],
      productIds: ['x', 'y'],
      violations: [{ field: 'items', description: 'is required' }],
      retryAfterMs: 250,
    });
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, details: 'insufficient stock: p', message: 'insufficient stock: p' });
    expect(errorContract.reasonOf(error)).toBe('insufficient-stock');
    expect(errorDetails.readInsufficientStock(error.metadata)).toEqual([{ productId: 'p', requested: 3, available: 1 }]);
    expect(errorDetails.readPriceChanged(error.metadata)).toEqual([{ productId: 'p', requestedUnitPriceMinor: 100, currentUnitPriceMinor: 120 }]);
    expect(errorDetails.readPriceMismatches(error.metadata)).toEqual([{ productId: 'q', expectedUnitPriceMinor: 5, currentUnitPriceMinor: 7 }]);
    expect(errorDetails.readProductIds(error.metadata)).toEqual(['x', 'y']);
    expect(errorDetails.readFieldViolations(error.metadata)).toEqual([{ field: 'items', description: 'is required' }]);
    expect(errorDetails.readRetryAfterMs(error.metadata)).toBe(250);
  });

  it('when a reason is written, then the wire carries the same string and key as before the contract (rolling deploys mix versions)', () => {
    const { metadata } = errorContract.toServiceError('reservation-state', 'released');
    expect(metadata!.get('orderflow-error-reason')).toEqual(['reservation-state']);
    expect(metadata!.getMap()).toEqual({ 'orderflow-error-reason': 'reservation-state' });
  });

  it('when each reason is written, then it travels with the status the services have always sent for it', () => {
    expect(Object.fromEntries(errorContract.ERROR_REASONS.map((r) => [r, status[errorContract.toServiceError(r, r).code!]]))).toEqual({
      'invalid-argument': 'INVALID_ARGUMENT',
      'invalid-page-token': 'INVALID_ARGUMENT',
      'not-found': 'NOT_FOUND',
      'unknown-product': 'NOT_FOUND',
      'insufficient-stock': 'FAILED_PRECONDITION',
      'stock-adjustment-refused': 'FAILED_PRECONDITION',
      'price-changed': 'FAILED_PRECONDITION',
      'reservation-state': 'FAILED_PRECONDITION',
      'invalid-transition': 'FAILED_PRECONDITION',
      'order-expired': 'FAILED_PRECONDITION',
      'idempotency-key-reused': 'FAILED_PRECONDITION',
      'reservation-mismatch': 'ALREADY_EXISTS',
      'idempotency-key-in-flight': 'ABORTED',
      conflict: 'ABORTED',
      forbidden: 'PERMISSION_DENIED',
      'permission-denied': 'PERMISSION_DENIED',
      overloaded: 'RESOURCE_EXHAUSTED',
      'too-many-requests': 'RESOURCE_EXHAUSTED',
      unavailable: 'UNAVAILABLE',
    });
  });

  it('when an error has no reason, an unknown one (a newer replica’s) or is no gRPC error, then a client reads no reason', () => {
    const withReason = (reason: string) => {
      const metadata = new Metadata();
      metadata.set(errorDetails.ERROR_REASON_KEY, reason);
      return { code: status.NOT_FOUND, metadata };
    };
    expect(errorContract.reasonOf(withReason('not-found'))).toBe('not-found');
    expect(errorContract.reasonOf(withReason('some-future-reason'))).toBeUndefined();
    expect(errorContract.reasonOf({ code: status.NOT_FOUND, metadata: new Metadata() })).toBeUndefined();
    expect(errorContract.reasonOf(new Error('plain'))).toBeUndefined();
    expect(errorContract.reasonOf(undefined)).toBeUndefined();
    expect(errorContract.reasonOf(withReason('toString'))).toBeUndefined();
  });

  it('when an error is internal, then it has no reason and no description of what failed', () => {
    const error = errorContract.internalError();
    expect(error).toMatchObject({ code: status.INTERNAL, details: 'internal error' });
    expect(errorContract.reasonOf(error)).toBeUndefined();
  });
});
