import { Logger, PeriodicPurge } from '@orderflow/service-kit';
import type { Clock, RetentionStore } from '../domain/ports';
import { createRetentionPurge, type PurgeResult } from '../domain/retention.use-case';

/** Between two purge batches: a backlog is deleted steadily without holding a shard's attention. */
const PURGE_PAUSE_MS = 100;
/** Batches per kind and pass: at the default batch size, up to 50,000 rows per shard a minute. */
const PURGE_MAX_BATCHES_PER_PASS = 100;

export interface RetentionPurgerSettings {
  idempotencyKeyTtlMs: number;
  outboxRetentionMs: number;
  /** Rows per DELETE (per shard). */
  batchSize: number;
  /** Between two passes. */
  intervalMs: number;
}

/**
 * The retention purge as a worker (in the sweeper role): every `intervalMs`, finished idempotency keys
 * and sent outbox rows past their retention are deleted in small batches. Overlapping purgers in
 * several processes are harmless: each DELETE takes what is left.
 */
export function createRetentionPurger(store: RetentionStore, clock: Clock, settings: RetentionPurgerSettings, logger: Logger): PeriodicPurge<PurgeResult> {
  const { intervalMs, ...retention } = settings;
  const purgeSettings = { ...retention, pauseMs: PURGE_PAUSE_MS, maxBatchesPerPass: PURGE_MAX_BATCHES_PER_PASS };
  const { purgeOnce } = createRetentionPurge({ store, clock, settings: purgeSettings });
  return new PeriodicPurge('retention-purger', purgeOnce, (r) => r.idempotencyKeys + r.outbox, logger, intervalMs);
}
