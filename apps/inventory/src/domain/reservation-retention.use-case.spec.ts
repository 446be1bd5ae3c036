import { createReservationPurge } from './reservation-retention.use-case';

const now = new Date('2026-12-01T12:00:00Z');
const settings = { retentionMs: 7 * 24 * 3600_000, batchSize: 10, pauseMs: 5, maxBatchesPerPass: 3 };

function fakeStore(due: number) {
  const calls: { before: Date; limit: number }[] = [];
  let left = due;
  return {
    calls,
    left: () => left,
    store: {
      async purgeSettledReservations(before: Date, limit: number) {
        calls.push({ before, limit });
        const deleted = Math.min(limit, left);
        left -= deleted;
        return { deleted, more: deleted === limit };
      },
    },
  };
}

describe('settled reservation purge', () => {
  it('when reservations are past the retention, then they go a batch at a time with a pause between, cut off at now minus the retention', async () => {
    const fake = fakeStore(15);
    const pauses: number[] = [];
    const purge = createReservationPurge({ store: fake.store, clock: { now: () => now }, settings, sleep: async (ms) => void pauses.push(ms) });
    await expect(purge.purgeOnce()).resolves.toEqual({ deleted: 15, batches: 2 });
    expect(fake.calls).toEqual([
      { before: new Date('2026-11-24T12:00:00Z'), limit: 10 },
      { before: new Date('2026-11-24T12:00:00Z'), limit: 10 },
    ]);
    expect(pauses).toEqual([5]);
  });

  it('when the backlog is larger than one pass may take, or the process stops, then the pass ends early and the rest waits', async () => {
    const big = fakeStore(100);
    await createReservationPurge({ store: big.store, clock: { now: () => now }, settings, sleep: async () => undefined }).purgeOnce();
    expect(big.left()).toBe(70);
    const stopped = fakeStore(100);
    let stopping = false;
    await createReservationPurge({ store: stopped.store, clock: { now: () => now }, settings, sleep: async () => void (stopping = true) }).purgeOnce(
      () => !stopping,
    );
    expect(stopped.calls).toHaveLength(1);
  });
});
