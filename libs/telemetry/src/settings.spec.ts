import { TracingConfigError, tracingSettings } from './settings';

describe('tracingSettings', () => {
  it('when no OTEL variable is set, then tracing is off (tests and npm start need no collector)', () => {
    expect(tracingSettings('inventory', {}).enabled).toBe(false);
  });

  it('when only an OTLP endpoint is set, then spans go there over OTLP/HTTP protobuf, under the service name', () => {
    expect(tracingSettings('inventory', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toMatchObject({
      enabled: true,
      serviceName: 'inventory',
      exporter: 'otlp',
      protocol: 'http/protobuf',
      url: 'http://collector:4318/v1/traces',
      sampler: { name: 'parentbased_always_on', ratio: 1 },
      scheduleDelayMs: 5_000,
    });
  });

  it('when OTEL_TRACES_EXPORTER=otlp alone, then the standard local endpoint is used', () => {
    expect(tracingSettings('gateway', { OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ enabled: true, url: 'http://localhost:4318/v1/traces' });
  });

  it('when the signal-specific variables are set, then they win over the general ones', () => {
    const settings = tracingSettings('gateway', {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://general:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom/path',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'gateway-eu',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    expect(settings).toMatchObject({
      url: 'http://traces:9999/custom/path',
      protocol: 'http/json',
      serviceName: 'gateway-eu',
      sampler: { name: 'parentbased_traceidratio', ratio: 0.25 },
      scheduleDelayMs: 200,
    });
  });

  it('when tracing is switched off explicitly, then an endpoint does not turn it on', () => {
    expect(tracingSettings('x', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).enabled).toBe(false);
    expect(tracingSettings('x', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).enabled).toBe(false);
  });

  it('when values are bad, then every bad variable is named', () => {
    try {
      tracingSettings('x', {
        OTEL_TRACES_EXPORTER: 'jaeger',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_BSP_SCHEDULE_DELAY: 'soon',
      });
      throw new Error('expected a TracingConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(TracingConfigError);
      for (const name of ['OTEL_TRACES_EXPORTER', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_TRACES_SAMPLER', 'OTEL_BSP_SCHEDULE_DELAY']) {
        expect((error as Error).message).toContain(name);
      }
    }
  });
});
