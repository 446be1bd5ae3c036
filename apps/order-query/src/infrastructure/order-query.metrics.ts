import { scrapeReading } from '@orderflow/service-kit';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ProjectionLag } from '../domain/model';
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
 *   re-routed, or a bucket move's switch waited out).
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

  return {
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
