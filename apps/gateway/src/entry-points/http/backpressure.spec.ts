import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { errorContract } from '@orderflow/proto';
import { retryAfterForGrpc } from './backpressure';

/** A downstream error as the services send it, through the error contract. */
const downstream = (reason: 'unavailable' | 'too-many-requests', retryAfterMs?: number): ServiceError =>
  Object.assign(new Error(reason), errorContract.toServiceError(reason, reason, retryAfterMs === undefined ? {} : { retryAfterMs })) as ServiceError;

describe('Retry-After for a downstream refusal', () => {
  it('when a service answers RESOURCE_EXHAUSTED, then Retry-After is its hint in whole seconds, or 1 s without one', () => {
    expect(retryAfterForGrpc(downstream('too-many-requests', 2_500))).toBe(3);
    expect(retryAfterForGrpc(downstream('too-many-requests'))).toBe(1);
  });

  it('when a service answers UNAVAILABLE with a hint (an order bucket being moved between shards), then Retry-After is the hint; without one, none', () => {
    expect(retryAfterForGrpc(downstream('unavailable', 1_000))).toBe(1);
    expect(retryAfterForGrpc(downstream('unavailable'))).toBeUndefined();
    const cutOff = Object.assign(new Error('Connection dropped'), { code: status.UNAVAILABLE, details: 'Connection dropped', metadata: new Metadata() });
    expect(retryAfterForGrpc(cutOff as ServiceError)).toBeUndefined();
  });
});
