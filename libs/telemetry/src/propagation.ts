import { Attributes, context, Context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TextMapGetter } from '@opentelemetry/api';

/** Spans made here carry this instrumentation scope. */
const tracer = () => trace.getTracer('orderflow');

/** Message headers as the carrier of trace context: anything with a get(name). */
export interface HeaderReader {
  get(name: string): string | undefined;
}

const readerGetter: TextMapGetter<HeaderReader> = {
  get: (carrier, key) => carrier.get(key) || undefined,
  keys: () => ['traceparent', 'tracestate'],
};

/**
 * The W3C traceparent of the span active now ("00-<trace id>-<span id>-<flags>"), or undefined when
 * tracing is off or nothing is being traced. What the outbox stores with each event.
 */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** Gives the span active now (the gateway's HTTP server span) a route name: "POST /api/orders". */
export function nameActiveSpan(name: string, attributes: Attributes = {}): void {
  trace.getActiveSpan()?.updateName(name).setAttributes(attributes);
}

/** What `work` may add to its span. */
export interface SpanScope {
  setAttribute(key: string, value: string | number | boolean): void;
}

async function inSpan<T>(
  name: string,
  kind: SpanKind,
  parent: Context,
  attributes: Attributes,
  work: (span: SpanScope, active: Context) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  const active = trace.setSpan(parent, span);
  try {
    return await context.with(active, () => work(span, active));
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Runs `work` in a PRODUCER span that continues the trace of `traceparent` (the request that wrote an
 * outbox row; a new trace when there is none) and hands it the headers that carry this span on:
 * `{ traceparent }`, or `{}` when tracing is off.
 */
export function withProducerSpan<T>(
  name: string,
  traceparent: string | null | undefined,
  attributes: Attributes,
  work: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  const parent = traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
  return inSpan(name, SpanKind.PRODUCER, parent, attributes, (_span, active) => {
    const headers: Record<string, string> = {};
    propagation.inject(active, headers);
    return work(headers);
  });
}

/** Runs `work` in a CONSUMER span that continues the trace carried by a message's headers. */
export function withConsumerSpan<T>(
  name: string,
  headers: HeaderReader | undefined,
  attributes: Attributes,
  work: (span: SpanScope) => Promise<T>,
): Promise<T> {
  const parent = headers ? propagation.extract(ROOT_CONTEXT, headers, readerGetter) : ROOT_CONTEXT;
  return inSpan(name, SpanKind.CONSUMER, parent, attributes, (span) => work(span));
}
