import type { sendUnaryData, ServerUnaryCall, ServiceError } from '@grpc/grpc-js';
import { deadlineDate } from './deadlines';
import { requestIdOf, runInCallContext } from './request-context';

/**
 * Builds unary handlers for a service: each runs its use case and answers with the result, or with
 * the service's one error mapper applied to whatever it threw. The use case runs with the call's
 * deadline as the current one (currentDeadline), so the calls and waits it makes end before it, and
 * with the request id the call came with (x-request-id) as the current one: the logger writes it on
 * every line (`reqId`) and the unary client sends it on every call made meanwhile.
 */
export function unaryHandlers(toError: (error: unknown, method: string) => Partial<ServiceError>) {
  return <Req, Res>(method: string, handle: (request: Req) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      // The answer is sent in the context too: the mapper's log lines carry the request id.
      runInCallContext({ deadline: deadlineDate(call.getDeadline()), requestId: requestIdOf(call.metadata) }, () =>
        handle(call.request).then(
          (response) => callback(null, response),
          (error: unknown) => callback(toError(error, method)),
        ),
      );
    };
}
