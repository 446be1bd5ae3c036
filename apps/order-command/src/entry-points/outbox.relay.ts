import { backoffDelay, Component, Logger } from '@orderflow/service-kit';
import type { EventPublisher, OutboxStore, RelayedBatch } from '../domain/outbox.ports';
import { PublishWindow } from './publish-window';

export interface OutboxRelayHooks {
  /** Runs inside the batch's transaction after the acks and before the rows are marked sent. For crash tests. */
  afterPublish?: (eventIds: string[]) => Promise<void>;
}

export interface OutboxRelayOptions {
  /** The outbox of every order shard. */
  store: OutboxStore;
  /** The event stream (JetStream). */
  publisher: EventPublisher;
  logger: Logger;
  /** Events claimed per batch (one transaction). */
  batchSize?: number;
  /**
   * Most publishes awaiting their JetStream ack at once, over every shard (default 256): a batch's events
   * all go out without waiting for each other's acks, in claim order, this many at a time at most.
   */
  publishWindow?: number;
  /** How often an idle shard is polled; notify() wakes it sooner. */
  pollIntervalMs?: number;
  /** Ceiling of the back-off after a batch that published nothing. */
  maxBackoffMs?: number;
  /**
   * After a wake-up, wait this long before claiming, so one batch carries the events of many commits
   * instead of one transaction per event under load (the price: this much more event latency).
   */
  lingerMs?: number;
  /**
   * Batches of one shard in flight at once (default 2): while one batch waits for its acks, the next is
   * claimed and published (SKIP LOCKED keeps them apart). Events of one order may then reach the stream
   * out of order, which order-query's version rule absorbs (it applies an early event after its predecessor).
   */
  loopsPerShard?: number;
  hooks?: OutboxRelayHooks;
  /** Told how many events each claim found (0: none; a histogram of batch sizes). */
  onBatch?: (events: number) => void;
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

/** What a relay loop is doing: a notify() is for a loop that is not about to claim already. */
type LoopState = 'sleeping' | 'lingering' | 'relaying' | 'backing-off';

/** One relay loop's wake-up: a notify() that arrives while its batch runs is remembered, not lost. */
class Wakeup {
  state: LoopState = 'relaying';
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
 * New rows on a shard: ONE of its loops claims them. A loop lingering before its claim will see them;
 * else a sleeping loop wakes (the others' batches are mid-flight: this one claims the rows they did not);
 * else the first loop goes again as soon as its batch ends. Waking every loop instead had the second one
 * claim, within the same linger, the few rows committed since the first one's claim: twice the
 * transactions for the same events.
 */
function wakeOne(loops: Wakeup[]): void {
  if (loops.some((loop) => loop.state === 'lingering')) return;
  (loops.find((loop) => loop.state === 'sleeping') ?? loops[0])?.notify();
}

/**
 * The worker between the outbox and the event stream, `loopsPerShard` loops per order shard: each takes a batch of
 * unsent events (the store locks them, so several relays share the work), publishes them all with their
 * acks in flight together (at most `publishWindow` over every shard), and the store marks the acked ones
 * sent in the same transaction, in one statement: two database round trips per batch, whatever its size. A relay that dies before that commit leaves them
 * unsent: they are sent again later, and the stream drops the copies by their message id (the event id).
 * Publish or database failures back off and retry; they never end the process.
 */
export class OutboxRelay implements Component {
  readonly name = 'outbox-relay';
  private readonly store: OutboxStore;
  private readonly publisher: EventPublisher;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly lingerMs: number;
  private readonly maxBackoffMs: number;
  private readonly hooks: OutboxRelayHooks;
  private readonly onBatch: (events: number) => void;
  private readonly window: PublishWindow;
  /** The wake-ups of each shard's loops. */
  private readonly wakeups: Wakeup[][];
  private loops: Promise<void>[] = [];
  private running = false;

  constructor(options: OutboxRelayOptions) {
    this.store = options.store;
    this.publisher = options.publisher;
    this.logger = options.logger;
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.lingerMs = options.lingerMs ?? 0;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.hooks = options.hooks ?? {};
    this.onBatch = options.onBatch ?? (() => undefined);
    if (this.store.shardCount === 0) throw new Error('outbox relay: no shards');
    const publishWindow = options.publishWindow ?? 256;
    const loopsPerShard = options.loopsPerShard ?? 2;
    for (const [name, value] of Object.entries({
      batchSize: this.batchSize,
      publishWindow,
      loopsPerShard,
      pollIntervalMs: this.pollIntervalMs,
      maxBackoffMs: this.maxBackoffMs,
    })) {
      if (!Number.isInteger(value) || value <= 0) throw new Error(`outbox relay: ${name} must be a positive integer`);
    }
    this.window = new PublishWindow(publishWindow);
    this.wakeups = Array.from({ length: this.store.shardCount }, () => Array.from({ length: loopsPerShard }, () => new Wakeup()));
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loops = this.wakeups.flatMap((loops, shard) => loops.map((wakeup) => this.run(shard, wakeup)));
  }

  /** Stops the loops; a batch in flight finishes (publish, mark, commit) first. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const wakeup of this.wakeups.flat()) wakeup.abort();
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** New rows were committed (on one shard, or anywhere): relay them now rather than at the next poll. */
  notify(shard?: number): void {
    for (const loops of shard === undefined ? this.wakeups : [this.wakeups[shard] ?? []]) wakeOne(loops);
  }

  /** Relays one batch of a shard; resolves to the number of events published and marked sent. */
  async relayOnce(shard: number): Promise<number> {
    if (shard < 0 || shard >= this.store.shardCount) throw new RangeError(`outbox relay: no shard ${shard}`);
    const outcome = await this.store.relayBatch(shard, this.batchSize, async (events) => {
      // Every event out at once within the window (acks in flight together), not one ack after another.
      const results = await Promise.allSettled(events.map((event) => this.window.run(() => this.publisher.publish(event))));
      const batch: RelayedBatch & { firstFailure?: unknown } = {
        sent: events.filter((_, i) => results[i]?.status === 'fulfilled'),
        failed: events.filter((_, i) => results[i]?.status === 'rejected'),
        firstFailure: results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason as unknown,
      };
      // Inside the batch's transaction: a throw here leaves every event of the batch unsent.
      if (batch.sent.length > 0) await this.hooks.afterPublish?.(batch.sent.map((event) => event.eventId));
      return batch;
    });
    this.onBatch(outcome ? outcome.sent.length + outcome.failed.length : 0);
    if (!outcome) return 0;
    // Thrown after the commit: the acked events stay marked sent.
    if (outcome.failed.length > 0) throw new OutboxPublishError(shard, outcome.sent.length, outcome.failed.length, outcome.firstFailure);
    return outcome.sent.length;
  }

  /** Unsent events over every shard. */
  backlog(): Promise<number> {
    return this.store.countUnsent();
  }

  private async run(shard: number, wakeup: Wakeup): Promise<void> {
    let failures = 0;
    while (this.running) {
      wakeup.clear();
      wakeup.state = 'relaying';
      try {
        const relayed = await this.relayOnce(shard);
        failures = 0;
        if (relayed >= this.batchSize) continue; // more waiting: no pause
      } catch (error) {
        const progressed = error instanceof OutboxPublishError && error.published > 0;
        failures = progressed ? 0 : failures + 1;
        const retryInMs = progressed
          ? 0
          : Math.max(BACKOFF_BASE_MS, backoffDelay(failures - 1, { baseDelayMs: BACKOFF_BASE_MS, maxDelayMs: this.maxBackoffMs }));
        const cause = error instanceof OutboxPublishError ? error.cause : error;
        this.logger.warn(
          { err: cause, shard, failures, retryInMs, ...(error instanceof OutboxPublishError ? { published: error.published, failed: error.failed } : {}) },
          'outbox relay batch failed; unsent rows will be retried',
        );
        if (!progressed) {
          // Not woken by notify(): new commits must not turn the back-off into a busy loop.
          wakeup.state = 'backing-off';
          if (this.running) await wakeup.sleep(retryInMs, false);
          continue;
        }
      }
      wakeup.state = 'sleeping';
      if (this.running) await wakeup.sleep(this.pollIntervalMs, true);
      wakeup.state = 'lingering';
      if (this.running && this.lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, this.lingerMs));
    }
  }
}
