import type { PurgeBatch, RetentionStore } from './ports';
import { createRetentionPurge } from './retention.use-case';

const HOUR = 3600_000;
const now = new Date('2026-12-01T12:00:00Z');

/** A store holding `keys` expired keys and `outbox` published rows, deleting at most `limit` a call. */
function fakeStore(keys: number, outbox: number) {
  const calls: { kind: string; before: Date; limit: number; deleted: number }[] = [];
  const left = { keys, outbox };
  const take =
    (kind: 'keys' | 'outbox') =>
    async (before: Date, limit: number): Promise<PurgeBatch> => {
      const deleted = Math.min(limit, left[kind]);
      left[kind] -= deleted;
      calls.push({ kind, before, limit, deleted });
      return { deleted, more: deleted === limit };
    };
  const store: RetentionStore = { purgeIdempotencyKeys: take('keys'), purgeSentOutbox: take('outbox') };
  return { store, calls, left };
}

const settings = { idempotencyKeyTtlMs: 24 * HOUR, outboxRetentionMs: 48 * HOUR, batchSize: 10, pauseMs: 7, maxBatchesPerPass: 5 };

describe('retention purge', () => {
  it('when rows are past their windows, then keys older than the TTL and outbox rows older than the retention go, a batch at a time with a pause between', async () => {
    const { store, calls } = fakeStore(25, 3);
    const pauses: number[] = [];
    const purge = createRetentionPurge({ store, clock: { now: () => now }, settings, sleep: async (ms) => void pauses.push(ms) });

    await expect(purge.purgeOnce()).resolves.toEqual({ idempotencyKeys: 25, outbox: 3, batches: 4 });
    expect(calls.map((c) => [c.kind, c.deleted])).toEqual([
      ['keys', 10],
      ['keys', 10],
      ['keys', 5],
      ['outbox', 3],
    ]);
    expect(calls.every((c) => c.limit === 10)).toBe(true);
    expect(calls[0]!.before).toEqual(new Date(now.getTime() - 24 * HOUR));
    expect(calls[3]!.before).toEqual(new Date(now.getTime() - 48 * HOUR));
    expect(pauses).toEqual([7, 7]); // after each full batch, none after the last
  });

  it('when the backlog is larger than a pass may take, then the pass stops at its batch limit and leaves the rest to the next', async () => {
    const { store, left } = fakeStore(1000, 0);
    const purge = createRetentionPurge({ store, clock: { now: () => now }, settings, sleep: async () => undefined });
    await expect(purge.purgeOnce()).resolves.toMatchObject({ idempotencyKeys: 50 });
    expect(left.keys).toBe(950);
  });

  it('when the process is stopping, then the pass ends after the batch in progress', async () => {
    const { store, calls } = fakeStore(1000, 1000);
    let stopping = false;
    const purge = createRetentionPurge({ store, clock: { now: () => now }, settings, sleep: async () => void (stopping = true) });
    await purge.purgeOnce(() => !stopping);
    expect(calls).toHaveLength(1);
  });
});
