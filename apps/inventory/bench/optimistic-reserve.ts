/**
 * The `optimistic` reserve mode, the benchmarks' naive baseline (never served by the system): no lock,
 * read, version-checked UPDATE, and retry on conflict, many times, since no lock keeps conflicts rare.
 * Plugged into the app through the composition root's `decorateUseCases` option:
 *   createInventoryApp(config, { decorateUseCases: optimisticReserve })
 */
import { retry } from '@orderflow/service-kit';
import type { InventoryOptions } from '../src/app';
import { withConflictRetries } from '../src/domain/conflict-retries';
import type { Reservation } from '../src/domain/model';
import type { ReserveInput } from '../src/domain/reserve.use-case';
import { assertReservable, replayReserve } from '../src/domain/stock';
import { validateReserve } from '../src/domain/validation';

export const optimisticReserve: NonNullable<InventoryOptions['decorateUseCases']> = (useCases, { store, clock, limits }) => {
  const withRetries = withConflictRetries({ run: (work, retryable) => retry(work, { attempts: 200, baseDelayMs: 1, maxDelayMs: 20, retryable }) });
  return {
    ...useCases,
    async reserve(input: ReserveInput): Promise<Reservation> {
      const command = validateReserve(input, limits, clock.now());
      const existing = await store.findReservation(command.orderId);
      if (existing) return replayReserve(existing, command);
      const products = new Map((await store.getProducts(command.items.map((i) => i.productId))).map((p) => [p.id, p]));
      assertReservable(products, command);
      const { reservation, created } = await withRetries(() => store.reserveAttempt(command));
      return created ? reservation : replayReserve(reservation, command);
    },
  };
};
