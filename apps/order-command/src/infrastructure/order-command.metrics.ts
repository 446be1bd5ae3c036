import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface OrderCommandGauges {
  /** Unsent outbox rows over every shard (the outbox store's countUnsent). */
  outboxBacklog(): Promise<number>;
  /** Orders owing inventory a Commit or Release not settled yet, over every shard. */
  settlementsPending(): Promise<number>;
}

/** A gauge read from the databases when Prometheus scrapes; -1 when they cannot be read. */
function gaugeOnScrape(registry: Registry, name: string, help: string, read: () => Promise<number>): void {
  new Gauge({
    name,
    help: `${help} (-1: could not be read)`,
    registers: [registry],
    async collect() {
      this.set(await read().catch(() => -1));
    },
  });
}

/**
 * order-command's business metrics: orderflow_outbox_backlog and orderflow_order_settlements_pending
 * (gauges read on scrape), orderflow_outbox_published_total (events the relay got acked by JetStream),
 * orderflow_outbox_relay_batch_events (events per batch the relay claimed)
 * and orderflow_inventory_reserve_batch_entries (Reserves per ReserveBatch call to inventory).
 */
export function createOrderCommandMetrics(registry: Registry, gauges: OrderCommandGauges) {
  gaugeOnScrape(registry, 'orderflow_outbox_backlog', 'Outbox rows not yet published, over all order shards', gauges.outboxBacklog);
  gaugeOnScrape(
    registry,
    'orderflow_order_settlements_pending',
    'Orders whose Commit or Release is still owed to inventory (the settler retries them), over all order shards',
    gauges.settlementsPending,
  );
  return {
    outboxPublished: new Counter({
      name: 'orderflow_outbox_published_total',
      help: 'Outbox events published to JetStream and acked (a re-send after a crash counts again; JetStream drops the copy)',
      registers: [registry],
    }),
    relayBatchEvents: new Histogram({
      name: 'orderflow_outbox_relay_batch_events',
      help: 'Events per batch the outbox relay claimed (one transaction each; 0: a claim that found none)',
      buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    reserveBatchEntries: new Histogram({
      name: 'orderflow_inventory_reserve_batch_entries',
      help: 'Reserves per ReserveBatch call to inventory (concurrent placements gathered into one call; 1: a lone Reserve)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: [registry],
    }),
  };
}

/**
 * The live order shard map's metrics (ADR 0009): the map version this process routes with (read on
 * scrape), writes refused by a shard's fence, and how long the refused writes took to land (or give up).
 */
export function createShardFenceMetrics(registry: Registry, mapVersion: () => number | undefined) {
  new Gauge({
    name: 'orderflow_shard_map_version',
    help: 'Version of the live order shard map this process routes with (-1: not read yet); a move waits until every process holds the new one',
    registers: [registry],
    collect() {
      this.set(mapVersion() ?? -1);
    },
  });
  return {
    fencedWrites: new Counter({
      name: 'orderflow_shard_fenced_writes_total',
      help: 'Order shard writes refused by the fence (a stale map, or a bucket being switched) and routed again',
      registers: [registry],
    }),
    fenceWait: new Histogram({
      name: 'orderflow_shard_fence_wait_seconds',
      help: 'How long writes refused by a fence took until they landed on the shard that owns the bucket, or gave up',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
