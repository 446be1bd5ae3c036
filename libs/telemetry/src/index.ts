// OpenTelemetry tracing for the services: start-up from the standard OTEL_* variables, and the manual
// context propagation across the outbox and NATS that auto-instrumentation cannot see.
export { startTracing } from './tracing';
export type { Tracing } from './tracing';
export { tracingSettings, TracingConfigError, SAMPLERS } from './settings';
export type { TracingSettings, SamplerName } from './settings';
export { activeTraceparent, nameActiveSpan, withProducerSpan, withConsumerSpan } from './propagation';
export type { HeaderReader, SpanScope } from './propagation';
