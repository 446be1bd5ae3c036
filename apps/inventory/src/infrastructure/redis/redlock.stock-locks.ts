import type { Redis } from 'ioredis';
import { ANSWER_MARGIN_MS, cappedWaitMs } from '@orderflow/service-kit';
import Redlock, { ExecutionError, Lock, ResourceLockedError } from 'redlock';
import { ConflictError, DependencyUnavailableError } from '../../domain/errors';
import type { StockLocks } from '../../domain/ports';
import { KeyedMutex, LockWaitTimeout } from './keyed-mutex';

export interface LockSettings {
  /** Lock lifetime in Redis. The database stays correct if it expires early; it only limits contention. */
  ttlMs: number;
  /**
   * How long a request may wait for its locks before it fails with ABORTED; less when the deadline of
   * the call being served is nearer, so the refusal reaches the caller before it gives up.
   */
  waitMs: number;
  retryDelayMs: number;
}

export const lockKey = (productId: string) => `orderflow:inventory:lock:product:${productId}`;

/** Redlock over one or more independent Redis masters (a majority must agree). */
export class RedlockStockLocks implements StockLocks {
  private readonly redlock: Redlock;
  private readonly local = new KeyedMutex();

  constructor(
    private readonly clients: Redis[],
    private readonly settings: LockSettings,
    private readonly onLockError: (error: unknown) => void = () => undefined,
  ) {
    this.redlock = new Redlock(clients, {
      driftFactor: 0.01,
      retryCount: Math.max(1, Math.ceil(settings.waitMs / settings.retryDelayMs)),
      retryDelay: settings.retryDelayMs,
      retryJitter: Math.ceil(settings.retryDelayMs / 2),
      automaticExtensionThreshold: 500,
    });
  }

  async withLocks<T>(productIds: string[], work: () => Promise<T>): Promise<T> {
    if (productIds.length === 0) return work();
    const keys = [...new Set(productIds)].sort().map(lockKey);
    const waitUntil = Date.now() + cappedWaitMs(this.settings.waitMs, ANSWER_MARGIN_MS);
    let releaseLocal: () => void;
    try {
      releaseLocal = await this.local.acquire(keys, Math.max(0, waitUntil - Date.now()));
    } catch (error) {
      if (error instanceof LockWaitTimeout) throw new ConflictError(`${error.message}; try again`);
      throw error;
    }
    let lock: Lock;
    try {
      lock = await this.acquire(keys, waitUntil);
    } catch (error) {
      releaseLocal();
      throw error;
    }
    try {
      return await work();
    } finally {
      // The work is done (committed or rolled back): its answer does not wait for Redis. The lock is released behind it, and
      // this process's next holder of these keys waits for that (the local queue), so it never finds its
      // own lock still taken. An expired lock fails to release: harmless, the database kept the stock right.
      void this.redlock.release(lock, { retryCount: 0 }).catch(this.onLockError).finally(releaseLocal);
    }
  }

  private async acquire(keys: string[], waitUntil: number): Promise<Lock> {
    // Fail fast (and closed) when a majority of the Redis masters is not connected: no quorum, no lock.
    const ready = this.clients.filter((c) => c.status === 'ready').length;
    if (ready < Math.floor(this.clients.length / 2) + 1) throw new DependencyUnavailableError('redis');
    try {
      const retryCount = Math.max(1, Math.ceil((waitUntil - Date.now()) / this.settings.retryDelayMs));
      return await this.redlock.acquire(keys, this.settings.ttlMs, { retryCount });
    } catch (error) {
      if (error instanceof ExecutionError && !(await redisFailed(error))) {
        throw new ConflictError(`could not lock ${keys.join(', ')} within ${this.settings.waitMs} ms; try again`);
      }
      throw new DependencyUnavailableError('redis', error);
    }
  }
}

/** Whether any vote against the lock was an error talking to Redis rather than "already locked". */
async function redisFailed(error: ExecutionError): Promise<boolean> {
  const stats = await Promise.allSettled(error.attempts);
  return stats.some((s) => s.status === 'rejected' || [...s.value.votesAgainst.values()].some((e) => !(e instanceof ResourceLockedError)));
}
