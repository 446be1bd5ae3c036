import { type CallOptions, type Client, type ClientUnaryCall, Metadata, type ServiceError } from '@grpc/grpc-js';
import { cappedDeadline } from './deadlines';
import { repeatAfterCutOff } from './grpc-client';
import { currentRequestId, REQUEST_ID_KEY } from './request-context';

/** The full overload of a generated client method (ts-proto, outputServices=grpc-js): request, metadata, options, callback. */
type Callback<Res> = (error: ServiceError | null, response: Res) => void;
type UnaryMethod<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: Callback<Res>) => ClientUnaryCall;

/** [request, response] of a generated unary method (its last overload, which TypeScript infers from, is the full one). */
type SignatureOf<M> = M extends (request: infer Req, metadata: Metadata, options: Partial<CallOptions>, callback: Callback<infer Res>) => ClientUnaryCall
  ? [Req, Res]
  : never;

export type RequestOf<M> = SignatureOf<M>[0];
export type ResponseOf<M> = SignatureOf<M>[1];

/** The names of a generated client's unary methods (not close, waitForReady, ...). */
export type UnaryMethodName<C> = { [K in keyof C]-?: [SignatureOf<C[K]>] extends [never] ? never : K }[keyof C] & string;

export interface UnaryClientOptions {
  /** Each call's deadline, from when it is made; never later than the deadline of the call being served (cappedDeadline). */
  deadlineMs: number;
  /** Tells a call cut off mid-flight (its outcome unknown) from an answer: libs/proto's `errorDetails.isCutOff`. */
  isCutOff: (error: unknown) => boolean;
}

export interface UnaryMethodOptions {
  /**
   * The method is safe to repeat (a read, a transition that answers "already" when repeated, a call
   * under an idempotency key): one cut off is made once more (repeatIfCutOff). A stock delta is not.
   */
  repeatIfCutOff: boolean;
  /** This method's deadline, when not the client's. */
  deadlineMs?: number;
}

/** A promise-returning unary call; the request id is the one of the call being served unless given. */
export type UnaryCall<Req, Res> = (request: Req, requestId?: string) => Promise<Res>;

/** What a call without a request id sends: grpc-js copies a call's metadata before it touches it, so one serves them all. */
const NO_METADATA = new Metadata();

/** The metadata of a call: the request id when there is one. */
function metadataFor(requestId: string | undefined): Metadata {
  if (requestId === undefined) return NO_METADATA;
  const metadata = new Metadata();
  metadata.set(REQUEST_ID_KEY, requestId);
  return metadata;
}

/**
 * The one way this system makes a unary gRPC call, over a generated client: a deadline on every call
 * (capped by the caller's own), the request id in metadata (x-request-id: the gateway's, passed on hop
 * to hop), and, for a method safe to repeat, one more attempt when the call was cut off (on another
 * replica, or the same service back). Typed by the generated method: `unaryCaller(client, o)('reserve', ...)`.
 * On the hot path a call costs its promise, the grpc-js callback and its metadata (none without a
 * request id); the repeat's closure is made only for a call that was cut off.
 */
export function unaryCaller<C extends Client>(client: C, options: UnaryClientOptions) {
  return <K extends UnaryMethodName<C>>(name: K, methodOptions: UnaryMethodOptions): UnaryCall<RequestOf<C[K]>, ResponseOf<C[K]>> => {
    type Req = RequestOf<C[K]>;
    type Res = ResponseOf<C[K]>;
    const method = client[name] as unknown as UnaryMethod<Req, Res>;
    const deadlineMs = methodOptions.deadlineMs ?? options.deadlineMs;
    const repeatable = methodOptions.repeatIfCutOff;
    const { isCutOff } = options;
    // The grpc-js callback is the one closure a call needs; the repeat is made from inside it, only after a cut-off.
    const call = (request: Req, metadata: Metadata, deadline: Date, repeat: boolean): Promise<Res> =>
      new Promise<Res>((resolve, reject) => {
        method.call(client, request, metadata, { deadline }, (error, response) => {
          if (!error) resolve(response);
          else if (repeat && isCutOff(error)) resolve(repeatAfterCutOff(client, deadline, error, () => call(request, metadata, deadline, false), isCutOff));
          else reject(error);
        });
      });
    return (request, requestId = currentRequestId()) => call(request, metadataFor(requestId), cappedDeadline(deadlineMs), repeatable);
  };
}
