import { AsyncResource } from 'node:async_hooks';
import { Metadata, type sendUnaryData, type ServerUnaryCall, type ServiceError, status } from '@grpc/grpc-js';
import { context as otelContext, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Counter, Histogram, Registry } from 'prom-client';
import { splitMethodPath } from './grpc-metrics';
import type { Logger } from './logger';
import { ANSWER_MARGIN_MS } from './deadlines';
import { isRequestId, REQUEST_ID_KEY } from './request-context';

/** libs/proto orderflow.batch.v1.EntryContext, as ts-proto generates it. */
export interface EntryContext {
  requestId: string;
  timeoutMs: number;
  /** W3C traceparent of the caller's span for this entry; empty when not traced. */
  traceparent: string;
}

/** libs/proto orderflow.batch.v1.EntryStatus, as ts-proto generates it. */
export interface EntryStatus {
  code: number;
  message: string;
  metadata: { key: string; value: Buffer }[];
}

/** The shape every batch method shares: entries in, one result per entry out, in order. */
export interface BatchRequest<Req> {
  entries: { request?: Req | undefined; context?: EntryContext | undefined }[];
}
export interface BatchResponse<Res> {
  results: { status?: EntryStatus | undefined; response?: Res | undefined }[];
}
/** What batchHandler answers: every result with both fields, as ts-proto types them (response undefined when not OK). */
export interface BatchAnswer<Res> {
  results: { status: EntryStatus | undefined; response: Res | undefined }[];
}

type UnaryHandler<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

/**
 * What a service sees of each entry as if it were a unary call of its own, so that dashboards, logs and
 * traces read the same whether callers batch or not: the entry counted and timed as a call of the unary
 * method in grpcServerMetrics' `orderflow_grpc_server_handled_total` / `_handling_seconds` (the batch
 * call itself is counted once, under the batch method), one debug line per entry ("gRPC call", with its
 * request id, as GrpcServer writes for a unary call), and a SERVER span per entry, child of the span the
 * caller sent in the entry's traceparent (what the gRPC instrumentation makes of a unary call).
 */
export interface BatchObservers {
  /** The registry GrpcServer's metrics interceptor records in (the service's registry). */
  metrics?: Registry;
  logger?: Logger;
}

/** An entry's status from what its unary handler answered (a mapped error carries code, details and metadata). */
export function entryStatusOf(error: Partial<ServiceError> | null): EntryStatus {
  if (!error) return { code: status.OK, message: '', metadata: [] };
  const metadata = Object.entries(error.metadata?.toJSON() ?? {}).flatMap(([key, values]) =>
    values.map((value) => ({ key, value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value })),
  );
  return { code: error.code ?? status.UNKNOWN, message: error.details ?? error.message ?? '', metadata };
}

/** "/pkg.Service/PlaceOrderBatch" -> "/pkg.Service/PlaceOrder": a batch method is named after its unary method. */
export const unaryPathOf = (batchPath: string) => batchPath.replace(/Batch$/, '');

/** Reports each entry's outcome (in the entry's call context: its request id is on the log line) as a unary call's. */
function entryReporter(observers: BatchObservers) {
  const logger = observers.logger?.isLevelEnabled('debug') ? observers.logger : undefined;
  // Looked up at the first entry: the handler is made before the server that registers them.
  let metrics: { handled?: Counter; duration?: Histogram } | undefined;
  return (path: string, code: number, startedMs: number) => {
    metrics ??= {
      handled: observers.metrics?.getSingleMetric('orderflow_grpc_server_handled_total') as Counter | undefined,
      duration: observers.metrics?.getSingleMetric('orderflow_grpc_server_handling_seconds') as Histogram | undefined,
    };
    const { handled, duration } = metrics;
    const { service, method } = splitMethodPath(path);
    const seconds = (performance.now() - startedMs) / 1000;
    const codeName = status[code] ?? String(code);
    handled?.inc({ grpc_service: service, grpc_method: method, grpc_code: codeName });
    duration?.observe({ grpc_service: service, grpc_method: method }, seconds);
    logger?.debug({ method, code: codeName, ms: Math.round(seconds * 10_000) / 10, batched: true }, 'gRPC call');
  };
}

/** Runs an entry in a SERVER span continuing its caller's trace; a no-op span when tracing is off. */
function inEntrySpan(path: string, traceparent: string | undefined, work: (end: (code: number, message: string) => void) => void): void {
  if (!traceparent) return work(() => undefined);
  const parent = propagation.extract(ROOT_CONTEXT, { traceparent });
  const span = trace
    .getTracer('orderflow')
    .startSpan(`grpc${path.replace(/^\//, '.')}`, { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc' } }, parent);
  const end = (code: number, message: string) => {
    span.setAttribute('rpc.grpc.status_code', code);
    if (code !== status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message });
    span.end();
  };
  otelContext.with(trace.setSpan(parent, span), () => {
    try {
      work(end);
    } catch (error) {
      end(status.INTERNAL, 'internal error');
      throw error;
    }
  });
}

/** How long before the batch call's deadline it answers with what is done (room for the answer's trip): at most ANSWER_MARGIN_MS, a tenth of a short call. */
const answerMarginMs = (timeoutMs: number) => Math.min(ANSWER_MARGIN_MS, Math.max(0, timeoutMs) / 10);

/**
 * Serves a batch method with the handler of its unary method: each entry is handled as a unary call of
 * its own would be (its request id, its deadline within the batch call's, the same error mapping), all
 * at once, and the batch answers when every entry has. The unary handler's work may itself be batched
 * further down (order-command's group commit, inventory's reserve batcher gather the entries' writes).
 * Shortly before the batch call's deadline it answers with what is done: an entry still running then
 * is DEADLINE_EXCEEDED (its outcome unknown, as a unary call's past its deadline), and the answers of
 * its neighbours are not lost with it.
 */
export function batchHandler<Req, Res>(single: UnaryHandler<Req, Res>, observers: BatchObservers = {}) {
  const report = entryReporter(observers);
  type Result = BatchAnswer<Res>['results'][number];
  return (call: ServerUnaryCall<BatchRequest<Req>, BatchAnswer<Res>>, callback: sendUnaryData<BatchAnswer<Res>>) => {
    const raw = call.getDeadline();
    const batchDeadline = raw instanceof Date ? raw.getTime() : Number(raw);
    const unaryPath = unaryPathOf(call.getPath?.() ?? '/unknown/unknown');
    const arrived = Date.now();
    const { entries } = call.request;
    const results: (Result | undefined)[] = new Array(entries.length);
    const started: number[] = new Array(entries.length);
    let left = entries.length;
    let timer: NodeJS.Timeout | undefined;
    let answered = false;

    // Bound to this call's context: the last entry to finish calls it from its own (its request id would
    // otherwise be on the batch call's log line).
    const answerBatch = AsyncResource.bind(() => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      const late = { code: status.DEADLINE_EXCEEDED, message: 'the deadline passed before this entry was answered', metadata: [] };
      callback(null, {
        // Array.from, not map: map skips the holes of the entries still running.
        results: Array.from(results, (result, i) => {
          if (result) return result;
          report(unaryPath, late.code, started[i]!);
          return { status: late, response: undefined };
        }),
      });
    });
    const settle = (i: number, result: Result, code: number) => {
      if (answered) return; // past the batch's answer: its caller was told DEADLINE_EXCEEDED
      report(unaryPath, code, started[i]!);
      results[i] = result;
      if (--left === 0) answerBatch();
    };

    if (entries.length === 0) return answerBatch();
    if (Number.isFinite(batchDeadline)) timer = setTimeout(answerBatch, Math.max(0, batchDeadline - answerMarginMs(batchDeadline - arrived) - arrived));

    entries.forEach(({ request, context }, i) => {
      started[i] = performance.now();
      // A unary call always has a request (an empty message at least); an entry without one is malformed.
      if (!request) {
        const refused = { code: status.INVALID_ARGUMENT, message: 'a batch entry needs a request', metadata: [] };
        return settle(i, { status: refused, response: undefined }, refused.code);
      }
      const metadata = new Metadata();
      // Only a well-formed id, as a unary call's header would be taken (and Metadata refuses some strings).
      if (isRequestId(context?.requestId)) metadata.set(REQUEST_ID_KEY, context.requestId);
      const own = context?.timeoutMs ? arrived + context.timeoutMs : Infinity;
      const deadline = Math.min(own, batchDeadline);
      const entryCall = { request, metadata, getDeadline: () => deadline, getPath: () => unaryPath, cancelled: false } as unknown as ServerUnaryCall<Req, Res>;
      const answer = (error: Partial<ServiceError> | null, response?: Res | null) => {
        const entryStatus = entryStatusOf(error);
        settle(i, { status: entryStatus, response: error ? undefined : (response ?? undefined) }, entryStatus.code);
        return entryStatus;
      };
      try {
        inEntrySpan(unaryPath, context?.traceparent, (endSpan) =>
          single(entryCall, (error, response) => {
            const { code, message } = answer(error, response);
            endSpan(code, message);
          }),
        );
      } catch {
        // A handler that threw instead of answering (a bug): this entry fails as its unary call would, alone.
        answer({ code: status.INTERNAL, details: 'internal error' });
      }
    });
  };
}
