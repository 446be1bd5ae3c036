import { Registry } from 'prom-client';
import {
  ConflictError,
  DependencyUnavailableError,
  InsufficientStockError,
  InvalidArgumentError,
  OverloadedError,
  ProductNotFoundError,
  ReservationMismatchError,
} from '../../domain/errors';
import type { InventoryUseCases } from '../../domain/inventory.use-cases';
import type { Reservation, ReserveCommand } from '../../domain/model';
import type { InventoryStore, StockLocks } from '../../domain/ports';
import { createInventoryMetrics, reservationOutcomeOf } from './inventory.metrics';

const reservation = (orderId: string): Reservation => ({ orderId, status: 'RESERVED', items: [{ productId: 'p', quantity: 1 }] });

async function outcomes(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('orderflow_inventory_reservations_total')!.get();
  return Object.fromEntries(metric.values.filter((v) => v.value > 0).map((v) => [String(v.labels.outcome), v.value]));
}

describe('inventory metrics decorators', () => {
  it('when Reserve answers with a reservation the store just created, then it counts as reserved; the same one again as replayed', async () => {
    const registry = new Registry();
    const instrument = createInventoryMetrics(registry);
    const stored = reservation('o-1');
    const store = instrument.store({ reserveAttempt: async () => ({ reservation: stored, created: true }) } as unknown as InventoryStore);
    let useCaseCalls = 0;
    // A use case that creates on its first call and replays (the stored object) afterwards.
    const useCases = instrument.useCases({
      reserve: async () => (useCaseCalls++ === 0 ? (await store.reserveAttempt({} as ReserveCommand)).reservation : stored),
    } as unknown as InventoryUseCases);

    await useCases.reserve({} as never);
    await useCases.reserve({} as never);
    expect(await outcomes(registry)).toEqual({ reserved: 1, replayed: 1 });
  });

  it('when a batch creates some reservations, then only those count as reserved', async () => {
    const registry = new Registry();
    const instrument = createInventoryMetrics(registry);
    const fresh = reservation('o-2');
    const old = reservation('o-3');
    const store = instrument.store({
      reserveBatchAttempt: async () => [
        { kind: 'reserved', reservation: fresh },
        { kind: 'existing', reservation: old },
        { kind: 'short', available: 0 },
      ],
    } as unknown as InventoryStore);
    const [first, second] = await store.reserveBatchAttempt([], () => ({ decisions: [], takes: [], granted: [] }));
    const answers = [first, second].map((o) => (o as { reservation: Reservation }).reservation);
    const reserve = async (input: { orderId: string }) => answers.find((r) => r.orderId === input.orderId)!;
    const useCases = instrument.useCases({ reserve } as unknown as InventoryUseCases);
    await useCases.reserve({ orderId: 'o-2' } as never);
    await useCases.reserve({ orderId: 'o-3' } as never);
    expect(await outcomes(registry)).toEqual({ reserved: 1, replayed: 1 });
  });

  it('when Reserve fails, then the outcome names why, and the error still reaches the caller', async () => {
    const registry = new Registry();
    const errors = [
      new InsufficientStockError([]),
      new ProductNotFoundError(['p']),
      new ConflictError('busy'),
      new OverloadedError('p', 1_000),
      new DependencyUnavailableError('redis'),
      new InvalidArgumentError([]),
      new ReservationMismatchError('o'),
      new Error('bug'),
    ];
    const useCases = createInventoryMetrics(registry).useCases({ reserve: async () => Promise.reject(errors.shift()) } as unknown as InventoryUseCases);
    for (let i = 0; i < 8; i++) await expect(useCases.reserve({} as never)).rejects.toBeDefined();
    expect(await outcomes(registry)).toEqual({ insufficient_stock: 1, not_found: 1, conflict: 1, overloaded: 1, unavailable: 1, invalid: 2, error: 1 });
    expect(reservationOutcomeOf('not an error')).toBe('error');
  });

  it('when locks are taken, then the wait until the work starts is observed; a failed acquisition or no product is not', async () => {
    const registry = new Registry();
    const instrument = createInventoryMetrics(registry);
    const slow: StockLocks = {
      withLocks: async (ids, work) => {
        if (ids.includes('unlockable')) throw new ConflictError('timed out');
        await new Promise((resolve) => setTimeout(resolve, 30));
        return work();
      },
    };
    const locks = instrument.locks(slow);
    await expect(locks.withLocks(['p'], async () => 'done')).resolves.toBe('done');
    await locks.withLocks([], async () => undefined);
    await expect(locks.withLocks(['unlockable'], async () => undefined)).rejects.toThrow('timed out');
    const metric = await registry.getSingleMetric('orderflow_inventory_lock_wait_seconds')!.get();
    const value = (name: string) => metric.values.find((v) => (v as { metricName?: string }).metricName === name)?.value;
    expect(value('orderflow_inventory_lock_wait_seconds_count')).toBe(1);
    expect(value('orderflow_inventory_lock_wait_seconds_sum')).toBeGreaterThanOrEqual(0.025);
  });
});
