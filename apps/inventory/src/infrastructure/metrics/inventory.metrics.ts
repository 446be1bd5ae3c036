import { Counter, Histogram, Registry } from 'prom-client';
import { InventoryError } from '../../domain/errors';
import type { InventoryUseCases } from '../../domain/inventory.use-cases';
import type { Reservation } from '../../domain/model';
import type { InventoryStore, StockLocks } from '../../domain/ports';

export const RESERVATION_OUTCOMES = [
  'reserved',
  'replayed',
  'insufficient_stock',
  'price_changed',
  'not_found',
  'conflict',
  'overloaded',
  'unavailable',
  'invalid',
  'error',
] as const;
export type ReservationOutcome = (typeof RESERVATION_OUTCOMES)[number];

const OUTCOME_BY_KIND: Record<InventoryError['kind'], ReservationOutcome> = {
  'invalid-argument': 'invalid',
  // The order id already holds another or a released reservation: the request cannot be honoured as sent.
  'reservation-mismatch': 'invalid',
  'reservation-state': 'invalid',
  'not-found': 'not_found',
  'insufficient-stock': 'insufficient_stock',
  // AdjustStock's refusal; Reserve never raises it.
  'stock-adjustment-refused': 'invalid',
  'price-changed': 'price_changed',
  conflict: 'conflict',
  overloaded: 'overloaded',
  unavailable: 'unavailable',
};

export const reservationOutcomeOf = (error: unknown): ReservationOutcome => (error instanceof InventoryError ? OUTCOME_BY_KIND[error.kind] : 'error');

/**
 * Inventory's business metrics, recorded by decorators the composition root puts around the store, the
 * locks and the use cases (the domain stays unaware of them):
 * - orderflow_inventory_reservations_total{outcome}: every Reserve call by how it ended;
 * - orderflow_inventory_lock_wait_seconds: from asking for product locks until the locked work starts
 *   (one observation per acquisition; a batch of hot-product Reserves takes one).
 */
export function createInventoryMetrics(registry: Registry) {
  const reservations = new Counter({
    name: 'orderflow_inventory_reservations_total',
    help: 'Reserve calls by outcome: reserved (new), replayed (the same order again), or why it was refused',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of RESERVATION_OUTCOMES) reservations.inc({ outcome }, 0);
  const lockWait = new Histogram({
    name: 'orderflow_inventory_lock_wait_seconds',
    help: 'Time from asking for product locks (local queue, then Redlock) until the locked work starts',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Reservations the store created just now: a Reserve that answers with one of them reserved stock;
  // any other answer replays a reservation stored before. Held weakly, and each is counted once.
  const created = new WeakSet<Reservation>();

  return {
    store(inner: InventoryStore): InventoryStore {
      return {
        ...inner,
        reserveAttempt: async (command) => {
          const result = await inner.reserveAttempt(command);
          if (result.created) created.add(result.reservation);
          return result;
        },
        reserveBatchAttempt: async (commands, allocate) => {
          const outcomes = await inner.reserveBatchAttempt(commands, allocate);
          for (const outcome of outcomes) if (outcome.kind === 'reserved') created.add(outcome.reservation);
          return outcomes;
        },
      };
    },

    locks(inner: StockLocks): StockLocks {
      return {
        withLocks: (productIds, work) => {
          if (productIds.length === 0) return inner.withLocks(productIds, work);
          const stopTimer = lockWait.startTimer();
          return inner.withLocks(productIds, () => {
            stopTimer();
            return work();
          });
        },
      };
    },

    useCases(inner: InventoryUseCases): InventoryUseCases {
      return {
        ...inner,
        reserve: async (input) => {
          try {
            const reservation = await inner.reserve(input);
            const outcome = created.delete(reservation) ? 'reserved' : 'replayed';
            reservations.inc({ outcome });
            return reservation;
          } catch (error) {
            reservations.inc({ outcome: reservationOutcomeOf(error) });
            throw error;
          }
        },
      };
    },
  };
}
