import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  ParentBasedSampler,
  Sampler,
  SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-node';
import { TracingSettings, tracingSettings } from './settings';

/** The tracing of one process; shaped as a service-kit Component so a Lifecycle flushes it last. */
export interface Tracing {
  readonly name: 'tracing';
  readonly enabled: boolean;
  readonly settings: TracingSettings;
  start(): Promise<void>;
  /** Exports what is buffered and turns the instrumentation off. */
  stop(): Promise<void>;
}

/** Ops endpoints are polled all the time; their spans would bury the requests that matter. */
const UNTRACED_HTTP_PATHS = /^\/(metrics|healthz|readyz)(\?|$)/;
/** Health checks and reflection: probes and tools, not business calls. */
const UNTRACED_GRPC_METHODS = ['Check', 'Watch', 'ServerReflectionInfo'];

function sampler({ name, ratio }: TracingSettings['sampler']): Sampler {
  const root = name.endsWith('always_off')
    ? new AlwaysOffSampler()
    : name.endsWith('traceidratio')
      ? new TraceIdRatioBasedSampler(ratio)
      : new AlwaysOnSampler();
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

function exporter(settings: TracingSettings): SpanExporter {
  if (settings.exporter === 'console') return new ConsoleSpanExporter();
  return settings.protocol === 'http/json' ? new OtlpJsonExporter({ url: settings.url }) : new OtlpProtobufExporter({ url: settings.url });
}

/**
 * Starts OpenTelemetry tracing for this process when the environment asks for it (see tracingSettings),
 * else does nothing. Call it before anything loads `http` or `@grpc/grpc-js`: instrumentation patches
 * a module as it is required, so each main.ts imports its `tracing.ts` first.
 *
 * When on: W3C trace context, spans for incoming and outgoing HTTP (the gateway) and gRPC (all four
 * services), exported in batches over OTLP/HTTP; the spans across NATS are made by the outbox relay and
 * the projection consumer (see withProducerSpan, withConsumerSpan).
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  const settings = tracingSettings(serviceName, env);
  if (!settings.enabled) return { name: 'tracing', enabled: false, settings, start: async () => undefined, stop: async () => undefined };

  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName, 'service.namespace': 'orderflow' }),
    sampler: sampler(settings.sampler),
    spanProcessors: [new BatchSpanProcessor(exporter(settings), { scheduledDelayMillis: settings.scheduleDelayMs })],
  });
  // Global tracer provider, AsyncLocalStorage context, W3C traceparent and baggage propagation.
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => UNTRACED_HTTP_PATHS.test(request.url ?? '') }),
      new GrpcInstrumentation({ ignoreGrpcMethods: UNTRACED_GRPC_METHODS }),
    ],
  });
  return {
    name: 'tracing',
    enabled: true,
    settings,
    start: async () => undefined,
    async stop() {
      unregister();
      await provider.shutdown();
    },
  };
}
