import type { sendUnaryData, ServerUnaryCall, ServiceError } from '@grpc/grpc-js';

/**
 * Builds unary handlers for a service: each runs its use case and answers with the result, or with
 * the service's one error mapper applied to whatever it threw.
 */
export function unaryHandlers(toError: (error: unknown, method: string) => Partial<ServiceError>) {
  return <Req, Res>(method: string, handle: (request: Req) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      handle(call.request).then(
        (response) => callback(null, response),
        (error: unknown) => callback(toError(error, method)),
      );
    };
}
