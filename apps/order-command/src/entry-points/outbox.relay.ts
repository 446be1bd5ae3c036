import type { EventPublisher } from '@orderflow/messaging';
import { backoffDelay, Component, Logger } from '@orderflow/service-kit';
import { withProducerSpan } from '@orderflow/telemetry';
import { rowsOf, SqlPool } from '@orderflow/database';

interface OutboxRow {
  id: number | string;
  event_id: string;
  subject: string;
  payload: Buffer;
  /** W3C trace context of the request that wrote the row (0002), or null. */
  traceparent: string | null;
}

export interface OutboxRelayHooks {
  /** Runs inside the batch's transaction after the acks and before the rows are marked sent. For crash tests. */
  afterPublish?: (eventIds: string[]) => Promise<void>;
}

export interface OutboxRelayOptions {
  /** One per order shard, in shard order; each holds an `outbox` table. */
  shards: SqlPool[];
  publisher: EventPublisher;
  logger: Logger;
  /** Rows claimed per transaction. */
  batchSize?: number;
  /** How often an idle shard is polled; notify() wakes it sooner. */
  pollIntervalMs?: number;
  /** Ceiling of the back-off after a batch that published nothing. */
  maxBackoffMs?: number;
  /**
   * After a wake-up, wait this long before claiming, so one batch carries the events of many commits
   * instead of one transaction per event under load (the price: this much more event latency).
   */
  lingerMs?: number;
  hooks?: OutboxRelayHooks;
}

/** Some rows of a batch were not acked. The acked ones were marked sent; the rest stay for the next batch. */
export class OutboxPublishError extends Error {
  constructor(
    readonly shard: number,
    readonly published: number,
    readonly failed: number,
    override readonly cause: unknown,
  ) {
    super(`outbox shard ${shard}: ${failed} of ${failed + published} events not published`);
    this.name = 'OutboxPublishError';
  }
}

const BACKOFF_BASE_MS = 100;

/** Per-shard wake-up: a notify() that arrives while a batch runs is remembered, not lost. */
class Wakeup {
  private pending = false;
  private interrupt?: { finish: () => void; byNotify: boolean };

  notify(): void {
    this.pending = true;
    if (this.interrupt?.byNotify) this.interrupt.finish();
  }

  /** Ends any sleep (stop()). */
  abort(): void {
    this.interrupt?.finish();
  }

  /** Forgets earlier notifications: the batch about to run sees every row committed before them. */
  clear(): void {
    this.pending = false;
  }

  /** Sleeps up to `ms`; notify() ends it early only when `byNotify`. */
  sleep(ms: number, byNotify: boolean): Promise<void> {
    if (byNotify && this.pending) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.interrupt = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.interrupt = { finish, byNotify };
    });
  }
}

/**
 * Publishes outbox rows to JetStream, one loop per order shard. A batch is claimed with
 * SELECT ... FOR UPDATE SKIP LOCKED, so several relays share the work without waiting on each other
 * and never publish the same row at once. A row is marked sent in the claiming transaction only after
 * its publish was acked; if the relay dies before the commit, the row is re-sent later and JetStream
 * drops the copy by its message id (the event id). Publish or database failures back off and retry;
 * they never end the process.
 */
export class OutboxRelay implements Component {
  readonly name = 'outbox-relay';
  private readonly shards: SqlPool[];
  private readonly publisher: EventPublisher;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly lingerMs: number;
  private readonly maxBackoffMs: number;
  private readonly hooks: OutboxRelayHooks;
  private readonly wakeups: Wakeup[];
  private loops: Promise<void>[] = [];
  private running = false;

  constructor(options: OutboxRelayOptions) {
    this.shards = options.shards;
    this.publisher = options.publisher;
    this.logger = options.logger;
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.lingerMs = options.lingerMs ?? 0;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.hooks = options.hooks ?? {};
    if (this.shards.length === 0) throw new Error('outbox relay: no shards');
    for (const [name, value] of Object.entries({ batchSize: this.batchSize, pollIntervalMs: this.pollIntervalMs, maxBackoffMs: this.maxBackoffMs })) {
      if (!Number.isInteger(value) || value <= 0) throw new Error(`outbox relay: ${name} must be a positive integer`);
    }
    this.wakeups = this.shards.map(() => new Wakeup());
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loops = this.shards.map((_, shard) => this.run(shard));
  }

  /** Stops the loops; a batch in flight finishes (publish, mark, commit) first. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const wakeup of this.wakeups) wakeup.abort();
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** New rows were committed (on one shard, or anywhere): relay them now rather than at the next poll. */
  notify(shard?: number): void {
    if (shard === undefined) for (const wakeup of this.wakeups) wakeup.notify();
    else this.wakeups[shard]?.notify();
  }

  /** Relays one batch of a shard; resolves to the number of rows published and marked sent. */
  async relayOnce(shard: number): Promise<number> {
    const db = this.shards[shard];
    if (!db) throw new RangeError(`outbox relay: no shard ${shard}`);
    // Two round trips per batch: claim (opening the transaction), then mark and COMMIT together.
    const outcome = await db.transaction(async (tx) => {
      const [claimed] = await tx.run([
        { sql: `SELECT id, event_id, subject, payload, traceparent FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`, values: [this.batchSize] },
      ]);
      const rows = rowsOf<OutboxRow>(claimed);
      if (rows.length === 0) return { published: 0, failed: 0, firstFailure: undefined };
      const results = await Promise.allSettled(rows.map((row) => this.publish(row)));
      const acked = rows.filter((_, i) => results[i]?.status === 'fulfilled');
      const failed = rows.filter((_, i) => results[i]?.status === 'rejected');
      if (acked.length > 0) await this.hooks.afterPublish?.(acked.map((row) => row.event_id));
      await tx.commitWith([
        ...(acked.length > 0
          ? [{ sql: `UPDATE outbox SET sent_at = NOW(3), publish_attempts = publish_attempts + 1 WHERE id IN (?)`, values: [acked.map((row) => row.id)] }]
          : []),
        // Counted, so an event that never goes out (say, a subject no stream takes) can be found.
        ...(failed.length > 0 ? [{ sql: `UPDATE outbox SET publish_attempts = publish_attempts + 1 WHERE id IN (?)`, values: [failed.map((row) => row.id)] }] : []),
      ]);
      const firstFailure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason as unknown;
      return { published: acked.length, failed: failed.length, firstFailure };
    });
    // Thrown after the commit: the acked rows stay marked sent.
    if (outcome.failed > 0) throw new OutboxPublishError(shard, outcome.published, outcome.failed, outcome.firstFailure);
    return outcome.published;
  }

  /** One row to JetStream, in a span that continues the trace of the request that wrote it. */
  private publish(row: OutboxRow): Promise<unknown> {
    const attributes = { 'messaging.system': 'nats', 'messaging.operation.type': 'send', 'messaging.destination.name': row.subject, 'messaging.message.id': row.event_id };
    return withProducerSpan(`publish ${row.subject}`, row.traceparent, attributes, (headers) => this.publisher.publish(row.subject, row.payload, row.event_id, headers));
  }

  /** Unsent rows over every shard. */
  async backlog(): Promise<number> {
    const counts = await Promise.all(this.shards.map((db) => db.run([{ sql: `SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL` }])));
    return counts.reduce((sum, [result]) => sum + Number(rowsOf<{ n: string }>(result)[0]?.n ?? 0), 0);
  }

  private async run(shard: number): Promise<void> {
    const wakeup = this.wakeups[shard] as Wakeup;
    let failures = 0;
    while (this.running) {
      wakeup.clear();
      try {
        const relayed = await this.relayOnce(shard);
        failures = 0;
        if (relayed >= this.batchSize) continue; // more waiting: no pause
      } catch (error) {
        const progressed = error instanceof OutboxPublishError && error.published > 0;
        failures = progressed ? 0 : failures + 1;
        const retryInMs = progressed ? 0 : Math.max(BACKOFF_BASE_MS, backoffDelay(failures - 1, { baseDelayMs: BACKOFF_BASE_MS, maxDelayMs: this.maxBackoffMs }));
        const cause = error instanceof OutboxPublishError ? error.cause : error;
        this.logger.warn(
          { err: cause, shard, failures, retryInMs, ...(error instanceof OutboxPublishError ? { published: error.published, failed: error.failed } : {}) },
          'outbox relay batch failed; unsent rows will be retried',
        );
        if (!progressed) {
          // Not woken by notify(): new commits must not turn the back-off into a busy loop.
          if (this.running) await wakeup.sleep(retryInMs, false);
          continue;
        }
      }
      if (this.running) await wakeup.sleep(this.pollIntervalMs, true);
      if (this.running && this.lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, this.lingerMs));
    }
  }
}
