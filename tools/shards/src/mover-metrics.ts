import { createLogger, createMetricsRegistry, MetricsServer } from '@orderflow/service-kit';
import { Gauge } from 'prom-client';
import { MOVE_STATES, type MoveRecord } from './move-record';
import type { MoveEvent } from './mover';

/**
 * The mover's own Prometheus gauges (`--metrics-port`): rows copied and to copy per table, the catch-up
 * backlog, the state (1 on the current one) and the last switch's fenced window.
 */
export class MoverMetrics {
  readonly registry = createMetricsRegistry({ defaultMetrics: false });
  private readonly copied = new Gauge({
    name: 'orderflow_shard_move_rows_copied',
    help: 'Rows of the moving buckets copied to the target',
    labelNames: ['set', 'table'],
    registers: [this.registry],
  });
  private readonly total = new Gauge({
    name: 'orderflow_shard_move_rows_total',
    help: 'Rows of the moving buckets counted when the copy started',
    labelNames: ['set', 'table'],
    registers: [this.registry],
  });
  private readonly backlog = new Gauge({
    name: 'orderflow_shard_move_changes_backlog',
    help: 'Changes recorded on the source not yet applied to the target',
    labelNames: ['set'],
    registers: [this.registry],
  });
  private readonly state = new Gauge({
    name: 'orderflow_shard_move_state',
    help: '1 for the state the move is in',
    labelNames: ['set', 'state'],
    registers: [this.registry],
  });
  private readonly fenced = new Gauge({
    name: 'orderflow_shard_move_fenced_seconds',
    help: "How long the switch kept the moving buckets' writes fenced",
    labelNames: ['set'],
    registers: [this.registry],
  });
  private server: MetricsServer | undefined;

  constructor(private readonly set: string) {}

  observe(event: MoveEvent): void {
    if (event.kind === 'log') return;
    const { move } = event;
    this.setState(move);
    for (const [table, t] of Object.entries(move.progress.tables)) {
      this.copied.set({ set: this.set, table }, t.copied);
      this.total.set({ set: this.set, table }, t.total);
    }
    if (event.kind === 'catch-up') this.backlog.set({ set: this.set }, event.backlog);
    if (event.kind === 'fenced') this.fenced.set({ set: this.set }, event.fencedMs / 1000);
  }

  private setState(move: MoveRecord): void {
    for (const state of MOVE_STATES) this.state.set({ set: this.set, state }, state === move.state ? 1 : 0);
  }

  async serve(port: number): Promise<number> {
    this.server = new MetricsServer({ host: '127.0.0.1', port, registry: this.registry, logger: createLogger('shards', 'warn') });
    await this.server.start();
    return this.server.boundPort;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}
