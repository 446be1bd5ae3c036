import { type Client, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type Context, context as otelContext, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { BatchRequest, BatchResponse, EntryStatus } from './batch-server';
import { cappedDeadline } from './deadlines';
import { repeatIfCutOff } from './grpc-client';
import { currentRequestId, REQUEST_ID_KEY } from './request-context';
import type { RequestOf, ResponseOf, UnaryCall, UnaryClientOptions, UnaryMethodName, UnaryMethodOptions } from './unary-client';

export interface BatchingOptions {
  /**
   * How long the first call of a batch waits for others, in ms. 0: until the event loop has taken in
   * what has arrived (setImmediate), so a lone call goes at once and calls that arrive together go together.
   */
  lingerMs: number;
  /** A batch holds at most this many calls; a full batch goes at once. */
  maxEntries: number;
  /** Told of every call sent: a batch call and its entries, or a unary call (the fallback) of one. For a metric of batch sizes. */
  onSend?: (entries: number, via: 'batch' | 'unary') => void;
  /** Told when calls start going unary (the server answered the batch method UNIMPLEMENTED): once a fallback window, for a warning. */
  onFallback?: (error: ServiceError) => void;
}

/** The unary methods of a client that take and answer what the entries of batch method K do. */
export type UnaryFallbackName<C, K extends keyof C> = {
  [M in UnaryMethodName<C>]: [RequestOf<C[M]>, ResponseOf<C[M]>] extends [EntryRequestOf<C[K]>, EntryResponseOf<C[K]>] ? M : never;
}[UnaryMethodName<C>];

export interface BatchMethodOptions<C, K extends keyof C> extends UnaryMethodOptions {
  /**
   * The unary method to use instead while the server does not know the batch method (it answers
   * UNIMPLEMENTED: an older version during a rolling upgrade): the calls of that batch go as unary
   * calls, and so do all calls for UNARY_FALLBACK_MS; then the batch method is tried again.
   */
  unaryFallback?: UnaryFallbackName<C, K>;
}

/** How long calls go unary after a server answered the batch method with UNIMPLEMENTED. */
export const UNARY_FALLBACK_MS = 30_000;

/** The unary request and response inside a batch method's entries and results. */
type EntryRequestOf<M> = RequestOf<M> extends BatchRequest<infer Req> ? Req : never;
type EntryResponseOf<M> = ResponseOf<M> extends BatchResponse<infer Res> ? Res : never;
/** The batch methods of a generated client (entries in, results out). */
export type BatchMethodName<C> = { [K in UnaryMethodName<C>]: [EntryRequestOf<C[K]>] extends [never] ? never : K }[UnaryMethodName<C>];

interface Pending<Req, Res> {
  request: Req;
  requestId: string | undefined;
  /** The caller's trace context when it is traced (its span is the parent of the entry's server span). */
  traced: Context | undefined;
  deadline: Date;
  repeated: boolean;
  resolve(response: Res): void;
  reject(error: ServiceError): void;
}

/** The trace context active now when something is traced (no allocation when tracing is off). */
const tracedContext = (): Context | undefined => (trace.getActiveSpan() ? otelContext.active() : undefined);

/** The W3C traceparent of a traced context; '' for none. */
function traceparentOf(traced: Context | undefined): string {
  if (!traced) return '';
  const carrier: { traceparent?: string } = {};
  propagation.inject(traced, carrier);
  return carrier.traceparent ?? '';
}

/** The error a unary call would have failed with, from an entry's status. */
export function entryError(entry: EntryStatus): ServiceError {
  const metadata = new Metadata();
  for (const { key, value } of entry.metadata) metadata.add(key, key.endsWith('-bin') ? Buffer.from(value) : Buffer.from(value).toString('utf8'));
  return Object.assign(new Error(`${entry.code} ${status[entry.code] ?? ''}: ${entry.message}`), { code: entry.code, details: entry.message, metadata });
}

/**
 * The unary calls of one method, gathered into calls of its batch method: what a caller sees is a
 * unary call (`batchingCaller(client, o)('reserveBatch', ...)` returns `(request, requestId?) =>
 * Promise<response>`, failing with the error the unary call would have), while calls made together
 * travel together. Each keeps its own deadline (capped by the call being served) and request id; the
 * batch call's deadline is the latest of them; each entry carries its caller's trace context. For a
 * method safe to repeat, a batch call cut off is made once more (repeatIfCutOff), and so is an entry
 * answered as cut off. With `unaryFallback`, a server that does not know the batch method yet (UNIMPLEMENTED)
 * is called with the unary method instead, for UNARY_FALLBACK_MS.
 */
export function batchingCaller<C extends Client>(client: C, options: UnaryClientOptions & BatchingOptions) {
  return <K extends BatchMethodName<C>>(name: K, methodOptions: BatchMethodOptions<C, K>): UnaryCall<EntryRequestOf<C[K]>, EntryResponseOf<C[K]>> => {
    type Req = EntryRequestOf<C[K]>;
    type Res = EntryResponseOf<C[K]>;
    const method = client[name] as unknown as (
      request: BatchRequest<Req>,
      metadata: Metadata,
      callOptions: { deadline: Date },
      callback: (error: ServiceError | null, response: BatchResponse<Res>) => void,
    ) => unknown;
    const unaryMethod = methodOptions.unaryFallback
      ? (client[methodOptions.unaryFallback] as unknown as (
          request: Req,
          metadata: Metadata,
          callOptions: { deadline: Date },
          callback: (error: ServiceError | null, response: Res) => void,
        ) => unknown)
      : undefined;
    const deadlineMs = methodOptions.deadlineMs ?? options.deadlineMs;
    const noMetadata = new Metadata();
    let queue: Pending<Req, Res>[] = [];
    let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
    /** Until when calls go unary (the server answered the batch method UNIMPLEMENTED). */
    let unaryUntil = 0;

    /** One call as the unary method, with the entry's own deadline and request id (the fallback). */
    const sendUnary = (p: Pending<Req, Res>) => {
      options.onSend?.(1, 'unary');
      const attempt = () =>
        new Promise<Res>((resolve, reject) => {
          const metadata = new Metadata();
          if (p.requestId !== undefined) metadata.set(REQUEST_ID_KEY, p.requestId);
          // In the caller's trace context: the gRPC instrumentation makes the call's span its child.
          otelContext.with(p.traced ?? ROOT_CONTEXT, () =>
            unaryMethod!.call(client, p.request, metadata, { deadline: p.deadline }, (error, response) => (error ? reject(error) : resolve(response))),
          );
        });
      (methodOptions.repeatIfCutOff ? repeatIfCutOff(client, p.deadline, attempt, options.isCutOff) : attempt()).then(p.resolve, p.reject);
    };

    const sendOnce = (batch: Pending<Req, Res>[], deadline: Date) =>
      new Promise<BatchResponse<Res>>((resolve, reject) => {
        const now = Date.now();
        const entries = batch.map((p) => ({
          request: p.request,
          context: { requestId: p.requestId ?? '', timeoutMs: Math.max(1, p.deadline.getTime() - now), traceparent: traceparentOf(p.traced) },
        }));
        // Not in the trace of whichever caller came first: each entry carries its own caller's (traceparent).
        otelContext.with(ROOT_CONTEXT, () =>
          method.call(client, { entries }, noMetadata, { deadline }, (error, response) => (error ? reject(error) : resolve(response))),
        );
      });

    const send = async (batch: Pending<Req, Res>[]) => {
      const deadline = new Date(Math.max(...batch.map((p) => p.deadline.getTime())));
      let response: BatchResponse<Res>;
      try {
        options.onSend?.(batch.length, 'batch');
        const attempt = () => sendOnce(batch, deadline);
        response = await (methodOptions.repeatIfCutOff ? repeatIfCutOff(client, deadline, attempt, options.isCutOff) : attempt());
        if (response.results.length !== batch.length)
          throw entryError({ code: status.INTERNAL, message: `${response.results.length} results for ${batch.length} entries`, metadata: [] });
      } catch (error) {
        // A server that does not know the batch method served none of it: each call goes unary instead.
        if (unaryMethod && (error as ServiceError).code === status.UNIMPLEMENTED) {
          // Batches in flight together fail together: the first to fail opens the window and tells of it.
          if (Date.now() >= unaryUntil) options.onFallback?.(error as ServiceError);
          unaryUntil = Date.now() + UNARY_FALLBACK_MS;
          for (const p of batch) sendUnary(p);
          return;
        }
        for (const p of batch) p.reject(error as ServiceError);
        return;
      }
      batch.forEach((p, i) => {
        const { status: entryStatus, response: entryResponse } = response.results[i] ?? {
          status: { code: status.INTERNAL, message: 'no result', metadata: [] },
        };
        if (!entryStatus || entryStatus.code === status.OK) return p.resolve(entryResponse as Res);
        let error: ServiceError;
        try {
          error = entryError(entryStatus);
        } catch {
          // Metadata a unary call could not have carried (an invalid header value): the entry's answer is unreadable.
          return p.reject(entryError({ code: status.INTERNAL, message: `unreadable answer (${entryStatus.code})`, metadata: [] }));
        }
        if (methodOptions.repeatIfCutOff && !p.repeated && options.isCutOff(error) && Date.now() < p.deadline.getTime()) {
          p.repeated = true;
          return enqueue(p);
        }
        p.reject(error);
      });
    };

    const flush = () => {
      if (options.lingerMs > 0) clearTimeout(timer as NodeJS.Timeout | undefined);
      else clearImmediate(timer as NodeJS.Immediate | undefined);
      timer = undefined;
      while (queue.length > 0) {
        const batch = queue.length > options.maxEntries ? queue.splice(0, options.maxEntries) : queue;
        if (batch === queue) queue = [];
        void send(batch);
      }
    };

    const enqueue = (pending: Pending<Req, Res>) => {
      if (unaryUntil > 0 && Date.now() < unaryUntil) return sendUnary(pending);
      queue.push(pending);
      if (queue.length >= options.maxEntries) flush();
      else if (!timer) timer = options.lingerMs > 0 ? setTimeout(flush, options.lingerMs) : setImmediate(flush);
    };

    return (request, requestId = currentRequestId()) =>
      new Promise<Res>((resolve, reject) => {
        const deadline = cappedDeadline(deadlineMs);
        // As a unary call's: past its own deadline the caller stops waiting (DEADLINE_EXCEEDED, outcome unknown),
        // whatever the batch it travels in still waits for.
        const expiry = setTimeout(
          () => reject(entryError({ code: status.DEADLINE_EXCEEDED, message: 'Deadline exceeded (the batch call was not answered in time)', metadata: [] })),
          Math.max(0, deadline.getTime() - Date.now()),
        );
        const settled =
          <T>(settle: (value: T) => void) =>
          (value: T) => {
            clearTimeout(expiry);
            settle(value);
          };
        enqueue({ request, requestId, traced: tracedContext(), deadline, repeated: false, resolve: settled(resolve), reject: settled(reject) });
      });
  };
}
