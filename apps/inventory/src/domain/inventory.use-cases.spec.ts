import { ConflictError, InsufficientStockError, ProductNotFoundError, ReservationMismatchError, VersionConflict } from './errors';
import { createInventoryUseCases } from './inventory.use-cases';
import type { Product, Reservation, ReserveCommand } from './model';
import type { InventoryStore } from './ports';
import { DEFAULT_LIMITS } from './validation';

const now = new Date('2026-01-01T00:00:00Z');
const later = new Date('2026-01-01T00:10:00Z');

/** An in-memory store for the use-case rules only; the real store is tested against MariaDB. */
function fakeStore(products: Product[], overrides: Partial<InventoryStore> = {}): InventoryStore {
  const reservations = new Map<string, Reservation>();
  return {
    upsertProduct: async () => Promise.reject(new Error('not used')),
    getProducts: async (ids) => products.filter((p) => ids.includes(p.id)),
    findReservation: async (id) => reservations.get(id),
    reserveAttempt: async (command: ReserveCommand) => {
      const reservation: Reservation = { orderId: command.orderId, status: 'RESERVED', items: command.items, expiresAt: command.expiresAt };
      reservations.set(command.orderId, reservation);
      return { reservation, created: true };
    },
    commitAttempt: async () => Promise.reject(new Error('not used')),
    releaseAttempt: async () => Promise.reject(new Error('not used')),
    prepareCommitAttempt: async () => Promise.reject(new Error('not used')),
    findExpired: async () => [],
    reserveBatchAttempt: async () => Promise.reject(new Error('not used')),
    adjustStockAttempt: async () => Promise.reject(new Error('not used')),
    ...overrides,
  };
}

const product = (id: string, available: number): Product => ({ id, name: id, priceMinor: 1, available, reserved: 0, sold: 0, received: available, version: 1 });

function useCases(store: InventoryStore, attempts = 3) {
  const locked: string[][] = [];
  const cases = createInventoryUseCases({
    store,
    locks: { withLocks: async (ids, work) => (locked.push(ids), work()) },
    clock: { now: () => now },
    limits: DEFAULT_LIMITS,
    mode: 'locked',
    retry: {
      run: async (work, retryable) => {
        for (let i = 1; ; i++) {
          try {
            return await work();
          } catch (error) {
            if (i >= attempts || !retryable(error)) throw error;
          }
        }
      },
    },
  });
  return { cases, locked };
}

describe('inventory use cases', () => {
  it('when stock is short at the pre-check, then no lock is taken and the shortage names the product', async () => {
    const { cases, locked } = useCases(fakeStore([product('a', 1)]));
    const error = await cases.reserve({ orderId: 'o', items: [{ productId: 'a', quantity: 2 }], expiresAt: later }).catch((e) => e);
    expect(error).toBeInstanceOf(InsufficientStockError);
    expect(error.shortages).toEqual([{ productId: 'a', requested: 2, available: 1 }]);
    expect(locked).toEqual([]);
  });

  it('when a product is unknown, then it is named and nothing is locked', async () => {
    const { cases, locked } = useCases(fakeStore([product('a', 5)]));
    const error = await cases
      .reserve({
        orderId: 'o',
        items: [
          { productId: 'a', quantity: 1 },
          { productId: 'zz', quantity: 1 },
        ],
        expiresAt: later,
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ProductNotFoundError);
    expect(error.productIds).toEqual(['zz']);
    expect(locked).toEqual([]);
  });

  it('when products are locked, then the keys are the sorted, summed product ids', async () => {
    const { cases, locked } = useCases(fakeStore([product('a', 5), product('b', 5)]));
    await cases.reserve({
      orderId: 'o',
      items: [
        { productId: 'b', quantity: 1 },
        { productId: 'a', quantity: 1 },
        { productId: 'b', quantity: 1 },
      ],
      expiresAt: later,
    });
    expect(locked).toEqual([['a', 'b']]);
  });

  it('when the conditional update keeps losing, then the call fails as a retryable conflict after the bounded attempts', async () => {
    let attempts = 0;
    const store = fakeStore([product('a', 5)], { reserveAttempt: async () => Promise.reject(new VersionConflict(`a${++attempts}`)) });
    const { cases } = useCases(store, 4);
    await expect(cases.reserve({ orderId: 'o', items: [{ productId: 'a', quantity: 1 }], expiresAt: later })).rejects.toBeInstanceOf(ConflictError);
    expect(attempts).toBe(4);
  });

  it('when a concurrent call stored other items for the order first, then this call is refused as a mismatch', async () => {
    const store = fakeStore([product('a', 5)], {
      reserveAttempt: async (command) => ({
        reservation: { orderId: command.orderId, status: 'RESERVED', items: [{ productId: 'a', quantity: 3 }] },
        created: false,
      }),
    });
    const { cases } = useCases(store);
    await expect(cases.reserve({ orderId: 'o', items: [{ productId: 'a', quantity: 1 }], expiresAt: later })).rejects.toBeInstanceOf(ReservationMismatchError);
  });
});

describe('AdjustStock', () => {
  const adjust = { productId: 'a', delta: -2, reason: '  damaged in the warehouse  ', actorId: 'ops' };

  it('when an adjustment loses a version race, then it runs again under the product lock, with the reason trimmed', async () => {
    const seen: unknown[] = [];
    let attempts = 0;
    const store = fakeStore([product('a', 5)], {
      adjustStockAttempt: async (command) => {
        seen.push(command);
        if (++attempts < 3) throw new VersionConflict('a');
        return { id: 7, product: { ...product('a', 3), version: 2 } };
      },
    });
    const { cases, locked } = useCases(store, 3);
    await expect(cases.adjustStock(adjust)).resolves.toMatchObject({ id: 7, product: { available: 3 } });
    expect(locked).toEqual([['a']]);
    expect(seen).toEqual([1, 2, 3].map(() => ({ productId: 'a', delta: -2, reason: 'damaged in the warehouse', actorId: 'ops' })));
  });

  it('when the input is invalid, then nothing is locked or stored', async () => {
    const { cases, locked } = useCases(fakeStore([product('a', 5)]));
    await expect(cases.adjustStock({ ...adjust, delta: 0 })).rejects.toThrow('delta');
    expect(locked).toEqual([]);
  });

  it('when one expired reservation cannot be released, then it fails alone: it is reported and the others are released', async () => {
    const released: string[] = [];
    const failures: string[] = [];
    const expired = (id: string): Reservation => ({
      orderId: id,
      status: 'RESERVED',
      items: [{ productId: 'a', quantity: 1 }],
      expiresAt: new Date(now.getTime() - 1),
    });
    const store = fakeStore([product('a', 5)], {
      findReservation: async (id) => expired(id),
      findExpired: async () => ['x1', 'x2', 'x3'],
      releaseAttempt: async (id, reason) => {
        if (id === 'x2') throw new Error('the database went away');
        released.push(id);
        return { ...expired(id), status: 'RELEASED', releaseReason: reason };
      },
    });
    const { cases } = useCases(store);
    expect(await cases.releaseExpired(10, (orderId) => failures.push(orderId))).toBe(2);
    expect(released).toEqual(['x1', 'x3']);
    expect(failures).toEqual(['x2']);
  });
});
