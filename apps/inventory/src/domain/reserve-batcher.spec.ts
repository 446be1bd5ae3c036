import { InsufficientStockError, OverloadedError, ReservationMismatchError, VersionConflict, ConflictError } from './errors';
import type { Product, Reservation, ReserveCommand } from './model';
import type { BatchOutcome, InventoryStore } from './ports';
import { laneOf, OVERLOADED_RETRY_AFTER_MS, ReserveBatcher } from './reserve-batcher';
import { BatchAllocation, BatchSnapshot, reservationOf } from './stock-allocation';

const expiresAt = new Date('2030-01-01T00:00:00Z');
const command = (orderId: string, quantity = 1): ReserveCommand => ({ orderId, items: [{ productId: 'hot', quantity }], expiresAt, expectedPrices: [] });

/** A fake store with one product; the real batch transaction is tested against MariaDB. */
function harness(available: number, options: { conflicts?: number } = {}) {
  const stored = new Map<string, Reservation>();
  const batches: string[][] = [];
  let locks = 0;
  let conflicts = options.conflicts ?? 0;
  const store = {
    // Reads, lets the domain allocate, applies its takes and stores what it granted, as the MySQL store does.
    reserveBatchAttempt: async (commands: ReserveCommand[], allocate: (snapshot: BatchSnapshot) => BatchAllocation): Promise<BatchOutcome[]> => {
      batches.push(commands.map((c) => c.orderId));
      if (conflicts-- > 0) throw new VersionConflict('hot');
      const hot: Product = { id: 'hot', name: 'hot', priceMinor: 1, available, reserved: 0, sold: 0, received: available, version: 1 };
      const storedOrderIds = new Set(commands.map((c) => c.orderId).filter((id) => stored.has(id)));
      const { decisions, takes, granted } = allocate({ products: new Map([['hot', hot]]), storedOrderIds });
      for (const take of takes) available = take.availableAfter;
      for (const command of granted) stored.set(command.orderId, reservationOf(command));
      return decisions.map((d, i) => (d.kind === 'stored' ? { kind: 'existing', reservation: stored.get(commands[i]!.orderId)! } : d));
    },
  } as unknown as InventoryStore;
  const batcher = new ReserveBatcher(
    store,
    { withLocks: async (_ids, work) => (locks++, work()) },
    {
      run: async (work, retryable) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await work();
          } catch (error) {
            if (attempt >= 3 || !retryable(error)) throw error;
          }
        }
      },
    },
    100,
  );
  return { batcher, batches, locks: () => locks, left: () => available };
}

describe('ReserveBatcher', () => {
  it('when 250 requests arrive together, then they run as few batches in arrival order, one lock each, and exactly the stock is sold', async () => {
    const h = harness(120);
    const results = await Promise.allSettled(Array.from({ length: 250 }, (_, i) => h.batcher.reserve(command(`o${i}`))));
    const filled = results.map((r, i) => (r.status === 'fulfilled' ? i : -1)).filter((i) => i >= 0);
    expect(filled).toEqual(Array.from({ length: 120 }, (_, i) => i)); // first come, first served
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof InsufficientStockError)).toBe(true);
    expect(h.batches.length).toBeLessThanOrEqual(4);
    expect(h.locks()).toBe(h.batches.length);
    expect(h.batches.flat()).toEqual(Array.from({ length: 250 }, (_, i) => `o${i}`));
    expect(h.left()).toBe(0);
  });

  it('when a large request does not fit, then it fails alone and the smaller ones behind it are still filled', async () => {
    const h = harness(5);
    const results = await Promise.allSettled([h.batcher.reserve(command('a', 3)), h.batcher.reserve(command('b', 4)), h.batcher.reserve(command('c', 2))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as InsufficientStockError).shortages).toEqual([{ productId: 'hot', requested: 4, available: 2 }]);
  });

  it('when one order comes twice in a batch, then it is reserved once; the same items replay, other items are refused', async () => {
    const h = harness(10);
    const [first, again, other] = await Promise.allSettled([
      h.batcher.reserve(command('x', 2)),
      h.batcher.reserve(command('x', 2)),
      h.batcher.reserve(command('x', 3)),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(again).toEqual(first);
    expect((other as PromiseRejectedResult).reason).toBeInstanceOf(ReservationMismatchError);
    expect(h.left()).toBe(8);
  });

  it('when the batch keeps losing the version race, then every request in it fails as a retryable conflict', async () => {
    const h = harness(10, { conflicts: 100 });
    const results = await Promise.allSettled([h.batcher.reserve(command('p')), h.batcher.reserve(command('q'))]);
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof ConflictError)).toBe(true);
  });

  it('when requests for many products arrive together, then each lane batches them under one lock on its products, filling each in arrival order', async () => {
    const stock = new Map([...'abcdefgh'].map((p) => [p, 2]));
    const batches: string[][] = [];
    const locked: string[][] = [];
    const store = {
      reserveBatchAttempt: async (commands: ReserveCommand[]): Promise<BatchOutcome[]> => {
        batches.push(commands.map((c) => c.orderId));
        return commands.map((c) => {
          const { productId, quantity } = c.items[0]!;
          const left = stock.get(productId)!;
          if (quantity > left) return { kind: 'short', available: left };
          stock.set(productId, left - quantity);
          return { kind: 'reserved', reservation: { orderId: c.orderId, status: 'RESERVED', items: c.items, expiresAt } };
        });
      },
    } as unknown as InventoryStore;
    const batcher = new ReserveBatcher(store, { withLocks: async (ids, work) => (locked.push([...ids].sort()), work()) }, { run: (work) => work() }, 100, 2);
    const calls = [...'abcdefgh'].flatMap((p) =>
      [1, 2, 3].map((n) => ({ orderId: `${p}${n}`, items: [{ productId: p, quantity: 1 }], expiresAt, expectedPrices: [] })),
    );
    const results = await Promise.allSettled(calls.map((c) => batcher.reserve(c)));
    // Two lanes: requests made in one turn of the event loop go in one batch per lane, products mixed,
    // in arrival order, under one lock over its products.
    expect(batches.length).toBe(2);
    expect(batches.flat().sort()).toEqual(calls.map((c) => c.orderId).sort());
    for (const batch of batches) expect(batch).toEqual(calls.map((c) => c.orderId).filter((id) => batch.includes(id)));
    expect(locked).toHaveLength(2);
    expect(Math.max(...locked.map((ids) => ids.length))).toBeGreaterThan(2);
    for (const ids of locked) for (const id of ids) expect(laneOf(id, 2)).toBe(laneOf(ids[0]!, 2));
    // Per product, the first two callers got the two units and the third was refused.
    expect(results.map((r) => r.status)).toEqual(calls.map((c) => (c.orderId.endsWith('3') ? 'rejected' : 'fulfilled')));
  });

  it('when a lane has maxQueued waiting, then the next ones are refused at once as overloaded, and the queue takes requests again once it drains', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const batches: string[][] = [];
    const store = {
      reserveBatchAttempt: async (commands: ReserveCommand[]): Promise<BatchOutcome[]> => {
        batches.push(commands.map((c) => c.orderId));
        await gate;
        return commands.map((c) => ({ kind: 'reserved', reservation: { orderId: c.orderId, status: 'RESERVED', items: c.items, expiresAt } }));
      },
    } as unknown as InventoryStore;
    const batcher = new ReserveBatcher(store, { withLocks: async (_ids, work) => work() }, { run: (work) => work() }, 100, 1, 2);
    const accepted = [batcher.reserve(command('a0'))];
    await new Promise((resolve) => setImmediate(resolve)); // a0's batch is in flight, held at the gate
    accepted.push(...[1, 2].map((i) => batcher.reserve(command(`a${i}`))));
    const refused = await Promise.allSettled([3, 4].map((i) => batcher.reserve(command(`a${i}`))));
    // Settled while the first batch is still held at the gate: nobody waited for the queue.
    expect(batches).toEqual([['a0']]);
    for (const r of refused) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(OverloadedError);
      expect(reason).toMatchObject({ kind: 'overloaded', productId: 'hot', retryAfterMs: OVERLOADED_RETRY_AFTER_MS });
    }
    open();
    expect((await Promise.all(accepted)).map((r) => r.orderId)).toEqual(['a0', 'a1', 'a2']);
    expect(batches).toEqual([['a0'], ['a1', 'a2']]); // the refused never reached the store
    await expect(batcher.reserve(command('a5'))).resolves.toMatchObject({ orderId: 'a5' });
  });

  it('when a lane is idle and requests arrive in one turn (the entries of a ReserveBatch), then they go in one batch in arrival order', async () => {
    const h = harness(3);
    const results = await Promise.allSettled(['e1', 'e2', 'e3', 'e4', 'e5'].map((id) => h.batcher.reserve(command(id))));
    expect(h.batches).toEqual([['e1', 'e2', 'e3', 'e4', 'e5']]);
    expect(h.locks()).toBe(1);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    // A lone request later goes at once, alone.
    await h.batcher.reserve(command('e1'));
    expect(h.batches).toEqual([['e1', 'e2', 'e3', 'e4', 'e5'], ['e1']]);
  });

  it('when an idle lane gets more than a batch holds in one turn, then only what waits behind that first batch counts against maxQueued', async () => {
    const batches: string[][] = [];
    const store = {
      reserveBatchAttempt: async (commands: ReserveCommand[]): Promise<BatchOutcome[]> => {
        batches.push(commands.map((c) => c.orderId));
        return commands.map((c) => ({ kind: 'reserved', reservation: { orderId: c.orderId, status: 'RESERVED', items: c.items, expiresAt } }));
      },
    } as unknown as InventoryStore;
    const batcher = new ReserveBatcher(store, { withLocks: async (_ids, work) => work() }, { run: (work) => work() }, 3, 1, 2);
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5, 6].map((i) => batcher.reserve(command(`b${i}`))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect((results[5] as PromiseRejectedResult).reason).toBeInstanceOf(OverloadedError);
    expect(batches).toEqual([
      ['b0', 'b1', 'b2'],
      ['b3', 'b4'],
    ]);
  });

  it('when maxQueued is below 1, then the batcher refuses to be built', () => {
    expect(() => new ReserveBatcher({} as InventoryStore, { withLocks: async (_ids, work) => work() }, { run: (work) => work() }, 10, 1, 0)).toThrow(
      RangeError,
    );
  });

  it('when a product id is hashed to a lane, then the lane is stable and within range', () => {
    const lanes = new Set(Array.from({ length: 1000 }, (_, i) => laneOf(`product-${i}`, 4)));
    expect([...lanes].sort()).toEqual([0, 1, 2, 3]);
    expect(laneOf('hot', 4)).toBe(laneOf('hot', 4));
  });
});
