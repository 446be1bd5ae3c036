import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { errorContract, errorDetails } from '@orderflow/proto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROBLEM_TYPES, problemFromGrpc } from './problems';

function grpcError(code: status, details: string, reason?: string, decorate: (m: Metadata) => void = () => undefined): ServiceError {
  const metadata = new Metadata();
  if (reason) metadata.set(errorDetails.ERROR_REASON_KEY, reason);
  decorate(metadata);
  return Object.assign(new Error(details), { code, details, metadata });
}

describe('gRPC error -> problem+json', () => {
  it.each([
    [status.FAILED_PRECONDITION, 'insufficient-stock', 409],
    [status.FAILED_PRECONDITION, 'price-changed', 409],
    [status.NOT_FOUND, 'unknown-product', 422],
    [status.ABORTED, 'idempotency-key-in-flight', 409],
    [status.FAILED_PRECONDITION, 'idempotency-key-reused', 422],
    [status.FAILED_PRECONDITION, 'invalid-transition', 409],
    [status.FAILED_PRECONDITION, 'order-expired', 409],
    [status.NOT_FOUND, 'not-found', 404],
    [status.PERMISSION_DENIED, 'forbidden', 403],
    [status.INVALID_ARGUMENT, 'invalid-argument', 400],
    [status.INVALID_ARGUMENT, 'invalid-page-token', 400],
    [status.UNAVAILABLE, 'unavailable', 503],
  ])('when a downstream says %s with reason %s, then the HTTP status is %s', (code, reason, http) => {
    expect(problemFromGrpc(grpcError(code, 'x', reason)).status).toBe(http);
  });

  it('when any reason of the error contract arrives with its status, then it has the problem type it has always had', () => {
    const types = Object.fromEntries(
      errorContract.ERROR_REASONS.map((reason) => [reason, problemFromGrpc(grpcError(errorContract.ERROR_REASON_STATUS[reason], 'x', reason)).body().type]),
    );
    expect(types).toEqual({
      'invalid-argument': '/problems/invalid-request',
      'invalid-page-token': '/problems/invalid-page-token',
      'not-found': '/problems/not-found',
      'unknown-product': '/problems/unknown-product',
      'insufficient-stock': '/problems/insufficient-stock',
      'stock-adjustment-refused': '/problems/stock-adjustment-refused',
      'price-changed': '/problems/price-changed',
      'reservation-state': '/problems/invalid-transition',
      'invalid-transition': '/problems/invalid-transition',
      'order-expired': '/problems/order-expired',
      'idempotency-key-reused': '/problems/idempotency-key-reused',
      'reservation-mismatch': '/problems/invalid-transition',
      'idempotency-key-in-flight': '/problems/idempotency-key-in-flight',
      conflict: '/problems/idempotency-key-in-flight',
      forbidden: '/problems/forbidden',
      'permission-denied': '/problems/forbidden',
      overloaded: '/problems/overloaded',
      'too-many-requests': '/problems/too-many-requests',
      unavailable: '/problems/unavailable',
    });
  });

  it('when a downstream sends a reason this gateway does not know yet (a newer replica), then its status decides', () => {
    const error = grpcError(status.FAILED_PRECONDITION, 'x', 'some-future-reason');
    expect(problemFromGrpc(error).body()).toMatchObject({ type: '/problems/invalid-transition', status: 409 });
  });

  it('when products are unknown, then the problem names them from the structured details', () => {
    const error = grpcError(status.NOT_FOUND, 'unknown products: a, b', 'unknown-product', (m) => errorDetails.setProductIds(m, ['a', 'b']));
    const body = problemFromGrpc(error).body();
    expect(body).toMatchObject({ type: '/problems/unknown-product', status: 422, detail: 'unknown products: a, b', products: ['a', 'b'] });
  });

  it.each([
    [status.INVALID_ARGUMENT, 400],
    [status.NOT_FOUND, 404],
    [status.FAILED_PRECONDITION, 409],
    [status.UNAVAILABLE, 503],
    [status.DEADLINE_EXCEEDED, 504],
    [status.INTERNAL, 500],
    [status.UNKNOWN, 500],
  ])('when a downstream gives status %s without a reason, then the HTTP status is %s', (code, http) => {
    expect(problemFromGrpc(grpcError(code, 'x')).status).toBe(http);
  });

  it("when UNAVAILABLE carries the service's own reason, then it is unavailable (nothing changed); without one (the call was cut off), outcome-unknown", () => {
    expect(problemFromGrpc(grpcError(status.UNAVAILABLE, 'inventory is unavailable', 'unavailable')).body()).toMatchObject({
      type: '/problems/unavailable',
      status: 503,
    });
    const cut = problemFromGrpc(grpcError(status.UNAVAILABLE, 'Connection dropped'));
    expect(cut.body()).toMatchObject({ type: '/problems/outcome-unknown', status: 503 });
    expect(PROBLEM_TYPES['outcome-unknown']!.description).not.toMatch(/nothing was changed/);
  });

  it('when stock is short, then the problem names each product with what is available', () => {
    const error = grpcError(status.FAILED_PRECONDITION, 'insufficient stock', 'insufficient-stock', (m) =>
      errorDetails.setInsufficientStock(m, [{ productId: 'p', requested: 3, available: 1 }]),
    );
    expect(problemFromGrpc(error).body()).toMatchObject({
      type: '/problems/insufficient-stock',
      status: 409,
      products: [{ product_id: 'p', requested: 3, available: 1 }],
    });
  });

  it('when a price changed, then the problem carries the current price as a decimal', () => {
    const error = grpcError(status.FAILED_PRECONDITION, 'price changed', 'price-changed', (m) =>
      errorDetails.setPriceChanged(m, [{ productId: 'p', requestedUnitPriceMinor: 1000, currentUnitPriceMinor: 1250 }]),
    );
    expect(problemFromGrpc(error).body().current_prices).toEqual([{ product_id: 'p', unit_price: 12.5, requested_unit_price: 10 }]);
  });

  it('when a price changed, then the detail quotes decimal money, not the minor units the service counts in', () => {
    const error = grpcError(status.FAILED_PRECONDITION, 'price changed: p costs 1250, not 1000', 'price-changed', (m) =>
      errorDetails.setPriceChanged(m, [{ productId: 'p', requestedUnitPriceMinor: 1000, currentUnitPriceMinor: 1250 }]),
    );
    expect(problemFromGrpc(error).detail).toBe('the price changed: p costs 12.50, not 10.00');
  });

  it('when the error is internal, then its details do not leak', () => {
    expect(problemFromGrpc(grpcError(status.INTERNAL, 'SELECT * FROM secrets failed')).body().detail).toBe('internal error');
  });
});

describe('docs/gateway.md', () => {
  it('when the problem types are listed there, then each type the API returns has its row with its status', () => {
    const docs = readFileSync(path.join(__dirname, '../../../../../docs/gateway.md'), 'utf8');
    const rows = Object.entries(PROBLEM_TYPES).filter(([slug, type]) => !docs.includes(`| \`${slug}\` | ${type.status} |`));
    expect(rows.map(([slug]) => slug)).toEqual([]);
  });
});
