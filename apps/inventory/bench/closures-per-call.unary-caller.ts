/**
 * service-kit's unaryCaller as it was before issue 14's cheap wins (unary-client.ts at 0328ef3^), but for
 * its metadata: per call, a closure for the attempt, and for a method safe to repeat, repeatIfCutOff's
 * async wrapper around it (one more promise), made whether or not the call is ever cut off. A call
 * without a request id sends the shared empty Metadata here as in main, so that `npm run bench:grpc-wins`
 * measures the closures alone (its "fresh Metadata per call" variant measures the metadata alone).
 */
import { type CallOptions, type Client, type ClientUnaryCall, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  cappedDeadline,
  currentRequestId,
  REQUEST_ID_KEY,
  repeatIfCutOff,
  type RequestOf,
  type ResponseOf,
  type UnaryCall,
  type UnaryClientOptions,
  type UnaryMethodName,
  type UnaryMethodOptions,
} from '@orderflow/service-kit';

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** What main sends for a call without a request id (unary-client.ts's NO_METADATA). */
const NO_METADATA = new Metadata();

export function closuresPerCallCaller<C extends Client>(client: C, options: UnaryClientOptions) {
  return <K extends UnaryMethodName<C>>(name: K, methodOptions: UnaryMethodOptions): UnaryCall<RequestOf<C[K]>, ResponseOf<C[K]>> => {
    const method = client[name] as unknown as UnaryMethod<RequestOf<C[K]>, ResponseOf<C[K]>>;
    const deadlineMs = methodOptions.deadlineMs ?? options.deadlineMs;
    const once = (request: RequestOf<C[K]>, requestId: string | undefined, deadline: Date) =>
      new Promise<ResponseOf<C[K]>>((resolve, reject) => {
        let metadata = NO_METADATA;
        if (requestId !== undefined) {
          metadata = new Metadata();
          metadata.set(REQUEST_ID_KEY, requestId);
        }
        method.call(client, request, metadata, { deadline }, (error, response) => (error ? reject(error) : resolve(response)));
      });
    return (request, requestId = currentRequestId()) => {
      const deadline = cappedDeadline(deadlineMs);
      const attempt = () => once(request, requestId, deadline);
      return methodOptions.repeatIfCutOff ? repeatIfCutOff(client, deadline, attempt, options.isCutOff) : attempt();
    };
  };
}
