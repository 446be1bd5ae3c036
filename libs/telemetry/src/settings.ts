/** What startTracing does, read from the standard OpenTelemetry environment variables. */
export interface TracingSettings {
  /** False: no SDK, no instrumentation; the OpenTelemetry API stays a no-op. */
  enabled: boolean;
  serviceName: string;
  exporter: 'otlp' | 'console';
  protocol: 'http/protobuf' | 'http/json';
  /** The full OTLP/HTTP traces URL (…/v1/traces). */
  url: string;
  sampler: { name: SamplerName; ratio: number };
  /** How long the batch processor waits before exporting (OTEL_BSP_SCHEDULE_DELAY). */
  scheduleDelayMs: number;
}

export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

const DEFAULT_OTLP_HTTP = 'http://localhost:4318';

export class TracingConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'TracingConfigError';
  }
}

const present = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/**
 * Tracing is on when OTEL_TRACES_EXPORTER names an exporter (otlp, console), or, with it unset, when
 * an OTLP endpoint is set; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it off. With
 * nothing set it is off, so tests and `npm start` need no collector. Bad values fail fast, named.
 */
export function tracingSettings(defaultServiceName: string, env: NodeJS.ProcessEnv): TracingSettings {
  const problems: string[] = [];
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;

  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const name of exporters)
    if (!['otlp', 'console', 'none'].includes(name)) problems.push(`OTEL_TRACES_EXPORTER: "${name}" is not one of otlp, console, none`);
  if (exporters.length > 1 && !exporters.includes('none')) problems.push('OTEL_TRACES_EXPORTER: one exporter at a time (otlp or console)');
  const chosen = exporters.length > 0 ? exporters[0] : present(endpoint) || present(tracesEndpoint) ? 'otlp' : 'none';

  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json')
    problems.push(`OTEL_EXPORTER_OTLP_PROTOCOL: "${protocol}" is not supported (http/protobuf or http/json)`);

  const url = present(tracesEndpoint) ? tracesEndpoint : `${(present(endpoint) ? endpoint : DEFAULT_OTLP_HTTP).replace(/\/+$/, '')}/v1/traces`;
  try {
    if (!/^https?:$/.test(new URL(url).protocol)) problems.push(`OTEL_EXPORTER_OTLP_ENDPOINT: "${url}" is not an http(s) URL`);
  } catch {
    problems.push(`OTEL_EXPORTER_OTLP_ENDPOINT: "${url}" is not a URL`);
  }

  const samplerName = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on') as SamplerName;
  if (!SAMPLERS.includes(samplerName)) problems.push(`OTEL_TRACES_SAMPLER: "${samplerName}" is not one of ${SAMPLERS.join(', ')}`);
  const ratio = present(env.OTEL_TRACES_SAMPLER_ARG) ? Number(env.OTEL_TRACES_SAMPLER_ARG) : 1;
  if (!(ratio >= 0 && ratio <= 1)) problems.push(`OTEL_TRACES_SAMPLER_ARG: "${env.OTEL_TRACES_SAMPLER_ARG}" is not a ratio from 0 to 1`);

  const scheduleDelayMs = present(env.OTEL_BSP_SCHEDULE_DELAY) ? Number(env.OTEL_BSP_SCHEDULE_DELAY) : 5_000;
  if (!Number.isInteger(scheduleDelayMs) || scheduleDelayMs < 0)
    problems.push(`OTEL_BSP_SCHEDULE_DELAY: "${env.OTEL_BSP_SCHEDULE_DELAY}" is not a whole number of milliseconds`);

  if (problems.length > 0) throw new TracingConfigError(problems);
  const disabled = env.OTEL_SDK_DISABLED === 'true' || chosen === 'none' || exporters.includes('none');
  return {
    enabled: !disabled,
    serviceName: present(env.OTEL_SERVICE_NAME) ? env.OTEL_SERVICE_NAME : defaultServiceName,
    exporter: chosen === 'console' ? 'console' : 'otlp',
    protocol: protocol as TracingSettings['protocol'],
    url,
    sampler: { name: samplerName, ratio },
    scheduleDelayMs,
  };
}
