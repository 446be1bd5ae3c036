import type { Clock, PurgeBatch, RetentionStore } from './ports';

export interface RetentionSettings {
  /** A DONE idempotency key is kept this long after its first call (a retry within it replays the answer). */
  idempotencyKeyTtlMs: number;
  /** A published outbox row is kept this long after it was sent. */
  outboxRetentionMs: number;
  /** Rows per DELETE (per shard). */
  batchSize: number;
  /** Pause between two batches, so a backlog is deleted without hogging a shard. */
  pauseMs: number;
  /** Batches per kind and pass at most; the rest waits for the next pass. */
  maxBatchesPerPass: number;
}

export interface RetentionDeps {
  store: RetentionStore;
  clock: Clock;
  settings: RetentionSettings;
  sleep?: (ms: number) => Promise<void>;
}

export interface PurgeResult {
  idempotencyKeys: number;
  outbox: number;
  batches: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Deletes what is past its retention in small batches with a pause between them, never in a request
 * path. `keepGoing` lets a stopping process end a pass between two batches.
 */
export function createRetentionPurge({ store, clock, settings, sleep = defaultSleep }: RetentionDeps) {
  const drain = async (purge: (before: Date, limit: number) => Promise<PurgeBatch>, before: Date, keepGoing: () => boolean) => {
    let deleted = 0;
    let batches = 0;
    while (batches < settings.maxBatchesPerPass && keepGoing()) {
      const batch = await purge(before, settings.batchSize);
      deleted += batch.deleted;
      batches++;
      if (!batch.more) break;
      await sleep(settings.pauseMs);
    }
    return { deleted, batches };
  };

  return {
    async purgeOnce(keepGoing: () => boolean = () => true): Promise<PurgeResult> {
      const now = clock.now().getTime();
      const keys = await drain((b, l) => store.purgeIdempotencyKeys(b, l), new Date(now - settings.idempotencyKeyTtlMs), keepGoing);
      const outbox = await drain((b, l) => store.purgeSentOutbox(b, l), new Date(now - settings.outboxRetentionMs), keepGoing);
      return { idempotencyKeys: keys.deleted, outbox: outbox.deleted, batches: keys.batches + outbox.batches };
    },
  };
}

export type RetentionPurge = ReturnType<typeof createRetentionPurge>;
