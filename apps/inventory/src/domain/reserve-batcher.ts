import { InsufficientStockError, OverloadedError, PriceChangedError, ProductNotFoundError, VersionConflict } from './errors';
import type { Reservation, ReserveCommand } from './model';
import type { BatchOutcome, InventoryStore, StockLocks } from './ports';
import { contentionOn, RetryPolicy } from './conflict-retries';
import { replayReserve } from './stock';
import { allocateBatch } from './stock-allocation';

interface Waiting {
  command: ReserveCommand;
  resolve: (reservation: Reservation) => void;
  reject: (error: unknown) => void;
}

/** The retry hint of a refusal: a full queue of the default bound drains in about that long. */
export const OVERLOADED_RETRY_AFTER_MS = 1_000;

/** Which lane a product's requests queue in: a stable string hash (FNV-1a), so one product always uses one lane. */
export function laneOf(productId: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < productId.length; i++) hash = Math.imul(hash ^ productId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % lanes;
}

/**
 * Coalesces concurrent single-product Reserves: each product belongs to one of `lanes` queues; while a
 * lane's batch is in flight, the next requests queue, and the next batch takes them all (up to
 * maxBatch), in arrival order, under ONE lock acquisition (over the batch's products) and ONE
 * transaction with ONE conditional UPDATE per product. A hot product's requests share a lane, so they
 * are served in arrival order; uniform traffic shares the round trips of a batch across products. Each
 * request stays all-or-nothing and is answered alone.
 *
 * An idle lane starts its first batch once the current turn of the event loop has handed over what it
 * carries (a microtask later): the entries of one ReserveBatch call arrive together, and go together
 * in entry order, under one lock and one transaction, instead of the first alone and the rest behind it.
 *
 * A lane's queue is bounded (`maxQueued` requests waiting behind the batch in flight, or behind the
 * first batch about to start): beyond it a request is refused at once with OverloadedError, before it
 * touches any state, instead of waiting longer than its caller's deadline.
 */
export class ReserveBatcher {
  private readonly queues = new Map<number, Waiting[]>();
  private readonly draining = new Set<number>();
  /** Lanes whose drain is about to take its first batch (the requests of this turn still join it). */
  private readonly starting = new Set<number>();

  constructor(
    private readonly store: InventoryStore,
    private readonly locks: StockLocks,
    private readonly retry: RetryPolicy,
    private readonly maxBatch: number,
    private readonly lanes = 4,
    private readonly maxQueued = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isInteger(lanes) || lanes < 1) throw new RangeError('lanes must be a positive integer');
    if (!(maxQueued >= 1)) throw new RangeError('maxQueued must be at least 1');
  }

  reserve(command: ReserveCommand): Promise<Reservation> {
    const productId = command.items[0]!.productId;
    const lane = laneOf(productId, this.lanes);
    const queue = this.queues.get(lane) ?? [];
    // Before a lane's first batch starts, the first maxBatch requests are that batch, not waiting behind one.
    const waiting = this.starting.has(lane) ? queue.length - this.maxBatch : queue.length;
    if (waiting >= this.maxQueued) return Promise.reject(new OverloadedError(productId, OVERLOADED_RETRY_AFTER_MS));
    return new Promise((resolve, reject) => {
      queue.push({ command, resolve, reject });
      this.queues.set(lane, queue);
      if (!this.draining.has(lane)) void this.drain(lane);
    });
  }

  private async drain(lane: number): Promise<void> {
    this.draining.add(lane);
    this.starting.add(lane);
    try {
      await Promise.resolve();
      this.starting.delete(lane);
      for (;;) {
        const queue = this.queues.get(lane);
        if (!queue || queue.length === 0) break;
        const batch = queue.splice(0, this.maxBatch);
        await this.run(batch);
      }
    } finally {
      this.draining.delete(lane);
      this.queues.delete(lane);
    }
  }

  private async run(batch: Waiting[]): Promise<void> {
    // The same order twice in one batch: the first one is stored, the others get its answer.
    const firsts = new Map<string, Waiting>();
    const repeats: Waiting[] = [];
    for (const waiting of batch) {
      if (firsts.has(waiting.command.orderId)) repeats.push(waiting);
      else firsts.set(waiting.command.orderId, waiting);
    }
    const unique = [...firsts.values()];
    const productIds = [...new Set(unique.map((w) => w.command.items[0]!.productId))];
    const commands = unique.map((w) => w.command);
    let outcomes: BatchOutcome[];
    try {
      outcomes = await this.locks.withLocks(productIds, () =>
        this.retry.run(
          () => this.store.reserveBatchAttempt(commands, (snapshot) => allocateBatch(commands, snapshot)),
          (e) => e instanceof VersionConflict,
        ),
      );
    } catch (error) {
      const failure = error instanceof VersionConflict ? contentionOn(error.productId) : error;
      for (const waiting of batch) waiting.reject(failure);
      return;
    }
    const answers = new Map<string, { reservation?: Reservation; error?: unknown }>();
    unique.forEach((waiting, i) => {
      const outcome = outcomes[i] as BatchOutcome;
      const item = waiting.command.items[0]!;
      const productId = item.productId;
      try {
        switch (outcome.kind) {
          case 'reserved':
            answers.set(waiting.command.orderId, { reservation: outcome.reservation });
            break;
          case 'existing':
            answers.set(waiting.command.orderId, { reservation: replayReserve(outcome.reservation, waiting.command) });
            break;
          case 'short':
            throw new InsufficientStockError([{ productId, requested: item.quantity, available: outcome.available }]);
          case 'not-found':
            throw new ProductNotFoundError([productId]);
          case 'price-changed':
            throw new PriceChangedError(outcome.mismatches);
        }
      } catch (error) {
        answers.set(waiting.command.orderId, { error });
      }
    });
    for (const waiting of unique) settle(waiting, answers.get(waiting.command.orderId)!);
    for (const waiting of repeats) {
      const first = answers.get(waiting.command.orderId)!;
      // A repeat with the same items is a retry of the first; other items are refused like any reuse.
      if (first.reservation) {
        try {
          waiting.resolve(replayReserve(first.reservation, waiting.command));
        } catch (error) {
          waiting.reject(error);
        }
      } else settle(waiting, first);
    }
  }
}

function settle(waiting: Waiting, answer: { reservation?: Reservation; error?: unknown }): void {
  if (answer.reservation) waiting.resolve(answer.reservation);
  else waiting.reject(answer.error);
}
