import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { errorDetails } from '@orderflow/proto';
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

  it('when UNAVAILABLE comes with the service\'s own reason, then it is unavailable (nothing changed); without one (the call was cut off), outcome-unknown', () => {
    expect(problemFromGrpc(grpcError(status.UNAVAILABLE, 'inventory is unavailable', 'unavailable')).body()).toMatchObject({ type: '/problems/unavailable', status: 503 });
    const cut = problemFromGrpc(grpcError(status.UNAVAILABLE, 'Connection dropped'));
    expect(cut.body()).toMatchObject({ type: '/problems/outcome-unknown', status: 503 });
    expect(PROBLEM_TYPES['outcome-unknown']!.description).not.toMatch(/nothing was changed/);
  });

  it('when stock is short, then the problem names each product with what is available', () => {
    const error = grpcError(status.FAILED_PRECONDITION, 'insufficient stock', 'insufficient-stock', (m) =>
      errorDetails.setInsufficientStock(m, [{ productId: 'p', requested: 3, available: 1 }]),
    );
    expect(problemFromGrpc(error).body()).toMatchObject({ type: '/problems/insufficient-stock', status: 409, products: [{ product_id: 'p', requested: 3, available: 1 }] });
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
