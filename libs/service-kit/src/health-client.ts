import {
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientUnaryCall,
  makeGenericClientConstructor,
  type Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

/** A client of standard gRPC health checking (grpc.health.v1.Health), typed as a generated client would be. */
export interface HealthClient extends Client {
  check(
    request: { service: string },
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: (error: ServiceError | null, response: { status: string }) => void,
  ): ClientUnaryCall;
}

export const HealthClient = makeGenericClientConstructor(healthService, 'Health') as unknown as new (
  target: string,
  creds: ChannelCredentials,
  options: ChannelOptions,
) => HealthClient;
