import type { Clock, ReservationRetentionStore } from './ports';

export interface ReservationRetentionSettings {
  /** A COMMITTED or RELEASED reservation is kept this long after it settled. */
  retentionMs: number;
  /** Reservations per DELETE. */
  batchSize: number;
  /** Pause between two batches, so a backlog is deleted without hogging the database. */
  pauseMs: number;
  /** Batches per pass at most; the rest waits for the next pass. */
  maxBatchesPerPass: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Deletes settled reservations past their retention in small batches with a pause between them, never
 * in a request path. `keepGoing` lets a stopping process end a pass between two batches.
 */
export function createReservationPurge(deps: {
  store: ReservationRetentionStore;
  clock: Clock;
  settings: ReservationRetentionSettings;
  sleep?: (ms: number) => Promise<void>;
}) {
  const { store, clock, settings, sleep = defaultSleep } = deps;
  return {
    async purgeOnce(keepGoing: () => boolean = () => true): Promise<{ deleted: number; batches: number }> {
      const before = new Date(clock.now().getTime() - settings.retentionMs);
      let deleted = 0;
      let batches = 0;
      while (batches < settings.maxBatchesPerPass && keepGoing()) {
        const batch = await store.purgeSettledReservations(before, settings.batchSize);
        deleted += batch.deleted;
        batches++;
        if (!batch.more) break;
        await sleep(settings.pauseMs);
      }
      return { deleted, batches };
    },
  };
}

export type ReservationPurge = ReturnType<typeof createReservationPurge>;
