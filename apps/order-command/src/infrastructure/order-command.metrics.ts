import { Counter, Gauge, Registry } from 'prom-client';

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
 * (gauges read on scrape) and orderflow_outbox_published_total (events the relay got acked by JetStream).
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
  };
}
