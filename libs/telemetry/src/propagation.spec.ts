import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { activeTraceparent, withConsumerSpan, withProducerSpan } from './propagation';
import { startTracing } from './tracing';

const headerMap = (headers: Record<string, string>) => ({ get: (name: string) => headers[name] });

describe('trace context across the outbox and NATS, with tracing off', () => {
  it('when no SDK is registered, then nothing is stored or sent, and work still runs', async () => {
    expect(startTracing('test', {}).enabled).toBe(false);
    expect(activeTraceparent()).toBeUndefined();
    const headers = await withProducerSpan('publish x', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', {}, async (h) => h);
    expect(headers).toEqual({});
    await expect(withConsumerSpan('process x', headerMap({}), {}, async () => 'done')).resolves.toBe('done');
  });
});

describe('trace context across the outbox and NATS, with an SDK', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  beforeEach(() => exporter.reset());

  it('when a request writes an outbox row, then the row stores its traceparent, and the publish and the projection continue that trace', async () => {
    const tracer = trace.getTracer('test');
    const stored = await tracer.startActiveSpan('PlaceOrder', async (span) => {
      const traceparent = activeTraceparent();
      span.end();
      return traceparent;
    });
    expect(stored).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    // Later, in the relay: no request context, only the stored row.
    const headers = await withProducerSpan('publish orders.v1.placed', stored, { 'messaging.system': 'nats' }, async (h) => h);
    expect(headers.traceparent).toMatch(/^00-/);
    // In order-query: the message's headers.
    await withConsumerSpan('process orders.v1.placed', headerMap(headers), {}, async (span) => span.setAttribute('orderflow.projection.result', 'applied'));

    const spans = exporter.getFinishedSpans();
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    const traceId = stored!.split('-')[1];
    expect(spans.map((s) => s.spanContext().traceId)).toEqual([traceId, traceId, traceId]);
    expect(byName['publish orders.v1.placed']!.parentSpanContext?.spanId).toBe(stored!.split('-')[2]);
    expect(byName['process orders.v1.placed']!.parentSpanContext?.spanId).toBe(byName['publish orders.v1.placed']!.spanContext().spanId);
    expect(byName['process orders.v1.placed']!.attributes['orderflow.projection.result']).toBe('applied');
  });

  it('when the work fails, then the span records the error and the error still reaches the caller', async () => {
    await expect(withConsumerSpan('process x', undefined, {}, async () => Promise.reject(new Error('shard down')))).rejects.toThrow('shard down');
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toMatchObject({ code: 2, message: 'shard down' });
    expect(span?.parentSpanContext).toBeUndefined();
  });

  it('when a row has no traceparent (written by a sweeper), then its publish starts a trace of its own', async () => {
    const headers = await withProducerSpan('publish orders.v1.expired', null, {}, async (h) => h);
    expect(headers.traceparent).toMatch(/^00-/);
    expect(exporter.getFinishedSpans()[0]?.parentSpanContext).toBeUndefined();
  });
});
