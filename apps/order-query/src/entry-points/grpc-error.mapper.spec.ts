import { status } from '@grpc/grpc-js';
import { errorContract, errorDetails } from '@orderflow/proto';
import { createLogger } from '@orderflow/service-kit';
import { DependencyUnavailableError, InvalidPageTokenError, OrderNotFoundError, PermissionDeniedError } from '../domain/errors';
import { toGrpcError } from './grpc-error.mapper';

const logger = createLogger('order-query-mapper-spec', 'silent');
const map = (error: unknown) => toGrpcError(error, logger, 'ListOrders');

describe('order-query gRPC error mapper', () => {
  it('when a page token is not valid, then INVALID_ARGUMENT invalid-page-token names the field', () => {
    const error = map(new InvalidPageTokenError());
    expect([error.code, errorContract.reasonOf(error)]).toEqual([status.INVALID_ARGUMENT, 'invalid-page-token']);
    expect(errorDetails.readFieldViolations(error.metadata).map((v) => v.field)).toEqual(['page_token']);
  });

  it('when an order is missing, the actor not allowed or a dependency down, then each has its status and reason', () => {
    const codeAndReason = (error: unknown) => [map(error).code, errorContract.reasonOf(map(error))];
    expect(codeAndReason(new OrderNotFoundError('1'))).toEqual([status.NOT_FOUND, 'not-found']);
    expect(codeAndReason(new PermissionDeniedError('the admin listing'))).toEqual([status.PERMISSION_DENIED, 'permission-denied']);
    expect(codeAndReason(new DependencyUnavailableError('nats'))).toEqual([status.UNAVAILABLE, 'unavailable']);
  });

  it('when the error is unexpected, then it is INTERNAL without a reason or its message', () => {
    const error = map(new Error('secret'));
    expect([error.code, error.details, errorContract.reasonOf(error)]).toEqual([status.INTERNAL, 'internal error', undefined]);
  });
});
