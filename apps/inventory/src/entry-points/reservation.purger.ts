import { type Logger, PeriodicPurge } from '@orderflow/service-kit';
import type { ReservationPurge } from '../domain/reservation-retention.use-case';

/**
 * Beside the sweeper, every interval: deletes settled reservations past their retention (docs/inventory.md,
 * "Retention"). Several inventory processes may purge at once: each batch locks the rows it deletes.
 */
export const createReservationPurger = (purge: ReservationPurge, logger: Logger, intervalMs: number) =>
  new PeriodicPurge('reservation-purger', purge.purgeOnce, (r) => r.deleted, logger, intervalMs);
