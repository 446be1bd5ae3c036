import { ConflictError, InsufficientStockError, ProductNotFoundError, VersionConflict } from './errors';
import type { Reservation, ReserveCommand } from './model';
import type { BatchOutcome, InventoryStore, StockLocks } from './ports';
import { replayReserve } from './stock';

interface Waiting {
  command: ReserveCommand;
  resolve: (reservation: Reservation) => void;
  reject: (error: unknown) => void;
}

export interface BatcherRetry {
  run<T>(work: () => Promise<T>, retryable: (error: unknown) => boolean): Promise<T>;
}

/**
 * Coalesces concurrent single-product Reserves per product: while one batch holds the product's lock,
 * the next requests queue; the next batch takes them all (up to maxBatch), in arrival order, under ONE
 * lock acquisition and ONE conditional UPDATE. Each request stays all-or-nothing and is answered alone.
 */
export class ReserveBatcher {
  private readonly queues = new Map<string, Waiting[]>();
  private readonly draining = new Set<string>();

  constructor(
    private readonly store: InventoryStore,
    private readonly locks: StockLocks,
    private readonly retry: BatcherRetry,
    private readonly maxBatch: number,
  ) {}

  reserve(command: ReserveCommand): Promise<Reservation> {
    const productId = command.items[0]!.productId;
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(productId) ?? [];
      queue.push({ command, resolve, reject });
      this.queues.set(productId, queue);
      if (!this.draining.has(productId)) void this.drain(productId);
    });
  }

  private async drain(productId: string): Promise<void> {
    this.draining.add(productId);
    try {
      for (;;) {
        const queue = this.queues.get(productId);
        if (!queue || queue.length === 0) break;
        const batch = queue.splice(0, this.maxBatch);
        await this.run(productId, batch);
      }
    } finally {
      this.draining.delete(productId);
      this.queues.delete(productId);
    }
  }

  private async run(productId: string, batch: Waiting[]): Promise<void> {
    // The same order twice in one batch: the first one is stored, the others get its answer.
    const firsts = new Map<string, Waiting>();
    const repeats: Waiting[] = [];
    for (const waiting of batch) {
      if (firsts.has(waiting.command.orderId)) repeats.push(waiting);
      else firsts.set(waiting.command.orderId, waiting);
    }
    const unique = [...firsts.values()];
    let outcomes: BatchOutcome[];
    try {
      outcomes = await this.locks.withLocks([productId], () =>
        this.retry.run(() => this.store.reserveBatchAttempt(productId, unique.map((w) => w.command)), (e) => e instanceof VersionConflict),
      );
    } catch (error) {
      const failure = error instanceof VersionConflict ? new ConflictError(`too much contention on product ${productId}; try again`) : error;
      for (const waiting of batch) waiting.reject(failure);
      return;
    }
    const answers = new Map<string, { reservation?: Reservation; error?: unknown }>();
    unique.forEach((waiting, i) => {
      const outcome = outcomes[i] as BatchOutcome;
      const item = waiting.command.items[0]!;
      try {
        switch (outcome.kind) {
          case 'reserved':
            answers.set(waiting.command.orderId, { reservation: outcome.reservation });
            break;
          case 'existing':
            answers.set(waiting.command.orderId, { reservation: replayReserve(outcome.reservation, waiting.command.items) });
            break;
          case 'short':
            throw new InsufficientStockError([{ productId, requested: item.quantity, available: outcome.available }]);
          case 'not-found':
            throw new ProductNotFoundError([productId]);
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
          waiting.resolve(replayReserve(first.reservation, waiting.command.items));
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
