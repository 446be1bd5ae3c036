import type { MethodDefinition } from '@grpc/grpc-js';

const serialize = (value: unknown) => Buffer.from(JSON.stringify(value));
const deserialize = (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown;

/** A unary method with JSON bodies, for the specs' own small gRPC services (no .proto needed). */
export const jsonUnaryMethod = (path: string): MethodDefinition<unknown, unknown> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: serialize,
  requestDeserialize: deserialize,
  responseSerialize: serialize,
  responseDeserialize: deserialize,
});
