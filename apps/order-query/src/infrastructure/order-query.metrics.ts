import { scrapeReading } from '@orderflow/service-kit';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppliedTiming, ProjectionLag } from '../domain/model';
import type { DeadLetters } from '../domain/ports';
import type { ProjectOrderEvents } from '../domain/project-order-events.use-case';

export const PROJECTION_RESULTS = ['applied', 'duplicate', 'out_of_order', 'dead_lettered'] as const;

/**
 * order-query's business metrics, recorded by decorators around the projection and the dead-letter
 * publisher, and the lag gauges read from GetProjectionLag when Prometheus scrapes:
 * - orderflow_projection_events_total{result}: each delivery's result (a redelivered event counts again);
 * - orderflow_projection_dead_letters_total: events moved to the dead-letter subject;
 * - orderflow_projection_lag_events / _seconds: unapplied events and the age of the oldest (-1: unknown);
 * - orderflow_shard_map_version: the version of the live read-shard map this process routes by (ADR 0009);
 * - orderflow_shard_fenced_writes_total: projection transactions a read shard's fence refused (a stale map
 *   re-routed, or a bucket move's switch waited out);
 * - orderflow_projection_delay_seconds{stage}: where each applied event's time went (the read-side lag,
 *   live): event_to_stream (order-command's commit and the relay, to JetStream's timestamp),
 *   stream_to_applied (delivery, grouping, the queue and the projection, to its ack), event_to_applied.
 */
export function createOrderQueryMetrics(registry: Registry, projectionLag: () => Promise<ProjectionLag>, shardMapVersion: () => number | undefined) {
  const events = new Counter({
    name: 'orderflow_projection_events_total',
    help: 'Order event deliveries by result: applied, duplicate (already applied), out_of_order (redelivered later), dead_lettered',
    labelNames: ['result'],
    registers: [registry],
  });
  for (const result of PROJECTION_RESULTS) events.inc({ result }, 0);
  const deadLetters = new Counter({
    name: 'orderflow_projection_dead_letters_total',
    help: 'Order events moved to the dead-letter subject',
    registers: [registry],
  });

  // A scrape collects both lag gauges at once: they share one GetProjectionLag (a JetStream consumer
  // info), and a NATS that does not answer within 0.5 s reads as unknown (-1), not as a failed scrape.
  const currentLag = scrapeReading(projectionLag);
  new Gauge({
    name: 'orderflow_projection_lag_events',
    help: 'Order events in the stream the read side has not applied yet (-1: could not be read)',
    registers: [registry],
    async collect() {
      this.set((await currentLag())?.eventsBehind ?? -1);
    },
  });
  new Gauge({
    name: 'orderflow_projection_lag_seconds',
    help: 'Age of the oldest order event the read side has not applied, 0 when caught up (-1: could not be read)',
    registers: [registry],
    async collect() {
      this.set((await currentLag())?.secondsBehind ?? -1);
    },
  });

  new Gauge({
    name: 'orderflow_shard_map_version',
    help: 'Version of the live read-shard map this process routes by (0: not read yet)',
    registers: [registry],
    collect() {
      this.set(shardMapVersion() ?? 0);
    },
  });
  const fencedWrites = new Counter({
    name: 'orderflow_shard_fenced_writes_total',
    help: "Projection transactions refused by a read shard's fence (a stale map, re-routed; or a bucket move switching, waited out)",
    registers: [registry],
  });

  const delay = new Histogram({
    name: 'orderflow_projection_delay_seconds',
    help: 'Where an applied event spent its time: event_to_stream (commit and relay), stream_to_applied (consumer and projection), event_to_applied',
    labelNames: ['stage'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  return {
    /** Observes where an applied event's time went. */
    applied({ occurredAt, storedAt, appliedAt }: AppliedTiming): void {
      const seconds = (from: Date, to: Date) => Math.max(0, to.getTime() - from.getTime()) / 1000;
      delay.observe({ stage: 'event_to_stream' }, seconds(occurredAt, storedAt));
      delay.observe({ stage: 'stream_to_applied' }, seconds(storedAt, appliedAt));
      delay.observe({ stage: 'event_to_applied' }, seconds(occurredAt, appliedAt));
    },
    /** Counts a write the fence refused. */
    fencedWrite: () => fencedWrites.inc(),
    /** Counts each event's decision; failures are counted when they end in a dead letter. */
    projection(inner: ProjectOrderEvents): ProjectOrderEvents {
      return async (batch) => {
        const results = await inner(batch);
        for (const { decision } of results) {
          if (decision) events.inc({ result: decision === 'duplicate' ? 'duplicate' : decision === 'out-of-order' ? 'out_of_order' : 'applied' });
        }
        return results;
      };
    },
    deadLetters(inner: DeadLetters): DeadLetters {
      return {
        publish: async (letter) => {
          await inner.publish(letter);
          events.inc({ result: 'dead_lettered' });
          deadLetters.inc();
        },
      };
    },
  };
}
