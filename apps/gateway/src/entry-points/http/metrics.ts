import { createMetricsRegistry, scrapeReading } from '@orderflow/service-kit';
import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsText } from '../../infrastructure/cluster-metrics';

/** One registry per gateway instance (no global default registry): HTTP, business and projection metrics. */
export function createMetrics(projectionLag: () => Promise<{ eventsBehind: number; secondsBehind: number } | undefined>) {
  const registry = createMetricsRegistry();
  // Both lag gauges are collected in one scrape (in parallel): they share one call to order-query, and
  // one that does not answer within 0.5 s reads as unknown (-1), not as a failed scrape of the gateway.
  const lagOnce = scrapeReading(projectionLag);
  const labels = ['method', 'route', 'status'] as const;
  const metrics = {
    registry,
    /** What /metrics serves: this process's metrics, or all workers' when the gateway runs several. */
    text: metricsText(registry),
    httpRequests: new Counter({ name: 'orderflow_http_requests_total', help: 'HTTP requests', labelNames: labels, registers: [registry] }),
    httpDuration: new Histogram({
      name: 'orderflow_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: labels,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    ordersPlaced: new Counter({ name: 'orderflow_orders_placed_total', help: 'Orders placed (201), replays excluded', registers: [registry] }),
    ordersRejected: new Counter({
      name: 'orderflow_orders_rejected_total',
      help: 'PlaceOrder refusals by problem type',
      labelNames: ['type'],
      registers: [registry],
    }),
    orderTransitions: new Counter({
      name: 'orderflow_order_transitions_total',
      help: 'Successful pay/cancel/ship calls',
      labelNames: ['action'],
      registers: [registry],
    }),
    requestsRateLimited: new Counter({
      name: 'orderflow_http_requests_rate_limited_total',
      help: 'Requests refused 429 by the per-customer rate limit',
      registers: [registry],
    }),
    requestsShed: new Counter({
      name: 'orderflow_http_requests_shed_total',
      help: 'Requests shed 503 because MAX_IN_FLIGHT_REQUESTS were in progress',
      registers: [registry],
    }),
    requestsInFlight: new Gauge({ name: 'orderflow_http_requests_in_flight', help: 'Requests in progress (ops routes excluded)', registers: [registry] }),
    downstreamBatchSize: new Histogram({
      name: 'orderflow_downstream_batch_size',
      help: 'Entries per call to a downstream batch method (via="batch"), or 1 per call of its unary method (via="unary": gathering off, or the fallback)',
      labelNames: ['method', 'via'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
      registers: [registry],
    }),
    downstreamErrors: new Counter({
      name: 'orderflow_downstream_errors_total',
      help: 'gRPC errors from downstream services by problem type',
      labelNames: ['type'],
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'orderflow_projection_lag_events',
    help: 'Order events not yet applied by the read side',
    registers: [registry],
    aggregator: 'max', // one read side: workers of one gateway report the same lag (not a sum)
    async collect() {
      const lag = await lagOnce();
      this.set(lag?.eventsBehind ?? -1);
    },
  });
  new Gauge({
    name: 'orderflow_projection_lag_seconds',
    help: 'Age of the oldest order event the read side has not applied (0 when caught up)',
    registers: [registry],
    aggregator: 'max',
    async collect() {
      const lag = await lagOnce();
      this.set(lag?.secondsBehind ?? -1);
    },
  });
  return metrics;
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
