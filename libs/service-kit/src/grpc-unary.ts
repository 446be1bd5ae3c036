import type { sendUnaryData, ServerUnaryCall, ServiceError } from '@grpc/grpc-js';
import { runWithDeadline } from './deadlines';

/**
 * Builds unary handlers for a service: each runs its use case and answers with the result, or with
 * the service's one error mapper applied to whatever it threw. The use case runs with the call's
 * deadline as the current one (currentDeadline), so the calls and waits it makes end before it.
 */
export function unaryHandlers(toError: (error: unknown, method: string) => Partial<ServiceError>) {
  return <Req, Res>(method: string, handle: (request: Req) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      runWithDeadline(call.getDeadline(), () => handle(call.request)).then(
        (response) => callback(null, response),
        (error: unknown) => callback(toError(error, method)),
      );
    };
}
