import {
  DependencyUnavailableError,
  IdempotencyKeyReusedError,
  InsufficientStockError,
  InventoryOverloadedError,
  OrderIdTakenError,
  PriceChangedError,
} from './errors';
import type { Order } from './model';
import type { ClaimResult, IdempotencyRecord, InventoryPort, OrderRepository } from './ports';
import { createPlaceOrder } from './place-order.use-case';
import { DEFAULT_ORDER_LIMITS } from '@orderflow/proto';

/** In-memory fakes for the use case's rules; the real repository and inventory are tested against real servers. */
function harness(inventory: Partial<InventoryPort> = {}, overrides: Partial<OrderRepository> = {}, soldOutCacheMs = 0) {
  const orders = new Map<string, Order>();
  const keys = new Map<string, IdempotencyRecord>();
  const calls: string[] = [];
  let n = 0;
  let ticks = 0;
  const repository: Partial<OrderRepository> = {
    claim: async (order, idem): Promise<ClaimResult> => {
      if (idem) {
        const existing = keys.get(`${order.customerId}/${idem.key}`);
        if (existing) return { kind: 'existing-key', record: existing };
        keys.set(`${order.customerId}/${idem.key}`, { fingerprint: idem.fingerprint, orderId: order.id, state: 'IN_FLIGHT' });
      }
      orders.set(order.id, order);
      return { kind: 'claimed' };
    },
    insertPlaced: async (event) => {
      calls.push(`insert ${event.order.id}`);
      if (orders.has(event.order.id)) return false;
      orders.set(event.order.id, event.order);
      return true;
    },
    get: async (orderId) => orders.get(orderId),
    completePlacement: async (event, key) => {
      orders.set(event.order.id, event.order);
      if (key) Object.assign(keys.get(`${event.order.customerId}/${key}`)!, { state: 'DONE', outcome: { kind: 'order', order: event.order } });
      return true;
    },
    failPlacement: async (orderId, customerId, options) => {
      calls.push(`fail ${orderId} owesRelease=${options.owesRelease} stored=${options.outcome ? options.outcome.kind : 'none'}`);
      orders.set(orderId, { ...orders.get(orderId)!, status: 'FAILED' });
      for (const [k, record] of keys) {
        if (record.orderId !== orderId) continue;
        if (options.outcome) Object.assign(record, { state: 'DONE', outcome: options.outcome });
        else keys.delete(k);
      }
      return true;
    },
    withdrawClaim: async (orderId, customerId, key) => {
      calls.push(`withdraw ${orderId}`);
      if (orders.get(orderId)?.status === 'PENDING') orders.delete(orderId);
      if (keys.get(`${customerId}/${key}`)?.state === 'IN_FLIGHT') keys.delete(`${customerId}/${key}`);
    },
    findIdempotency: async (customerId, key) => keys.get(`${customerId}/${key}`),
    ...overrides,
  };
  const port: InventoryPort = {
    // Every product costs 100 and has 10 in stock.
    reserve: async (orderId, items) => {
      calls.push(`reserve ${orderId}`);
      const changed = items.filter((i) => i.unitPriceMinor !== 100);
      if (changed.length > 0)
        throw new PriceChangedError(changed.map((i) => ({ productId: i.productId, requestedUnitPriceMinor: i.unitPriceMinor, currentUnitPriceMinor: 100 })));
      const short = items.filter((i) => i.quantity > 10);
      if (short.length > 0) throw new InsufficientStockError(short.map((i) => ({ productId: i.productId, requested: i.quantity, available: 10 })));
    },
    commit: async () => undefined,
    prepareCommit: async () => undefined,
    release: async (orderId, reason) => void calls.push(`release ${orderId} ${reason}`),
    ...inventory,
  };
  const placeOrder = createPlaceOrder({
    repository: repository as OrderRepository,
    inventory: port,
    ids: { next: () => `${++n}`, isValid: () => true },
    clock: { now: () => new Date(Date.UTC(2026, 0, 1) + 1000 * ticks++) }, // one second per reading
    outbox: { notify: () => calls.push('notify') },
    log: { warn: () => undefined, error: () => undefined },
    settings: { limits: DEFAULT_ORDER_LIMITS, paymentWindowMs: 60_000, reservationGraceMs: 1_000, inFlightWaitMs: 100, soldOutCacheMs },
  });
  return { placeOrder, orders, keys, calls };
}

const request = (key?: string, quantity = 1) => ({
  customerId: 'c1',
  idempotencyKey: key,
  items: [{ productId: 'p', quantity, unitPriceMinor: 100 }],
  address: ' 1 Main St ',
  paymentMethod: 'card',
});

describe('PlaceOrder rules', () => {
  it('when an order is placed without a key, then stock is reserved first, the order is written once as RESERVED, and the relay wakes', async () => {
    const { placeOrder, calls, orders } = harness();
    const { order, replayed } = await placeOrder(request(undefined, 3));
    expect(replayed).toBe(false);
    expect(order).toMatchObject({
      id: '1',
      status: 'RESERVED',
      version: 1,
      totalMinor: 300,
      address: '1 Main St',
      expiresAt: new Date('2026-01-01T00:01:00Z'),
    });
    // Created when asked, updated (the event's time) when the stock was held.
    expect([order.createdAt, order.updatedAt]).toEqual([new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:01Z')]);
    expect(calls).toEqual(['reserve 1', 'insert 1', 'notify']);
    expect(orders.get('1')).toEqual(order);
  });

  it('when inventory refuses for stock, then the order fails without a release and the refusal is stored under the key', async () => {
    const { placeOrder, keys, calls } = harness({
      reserve: async () => Promise.reject(new InsufficientStockError([{ productId: 'p', requested: 1, available: 0 }])),
    });
    await expect(placeOrder(request('k'))).rejects.toBeInstanceOf(InsufficientStockError);
    expect(calls).toEqual(['fail 1 owesRelease=false stored=error']);
    expect(keys.get('c1/k')?.state).toBe('DONE');
    await expect(placeOrder(request('k'))).rejects.toBeInstanceOf(InsufficientStockError);
  });

  it('when an unkeyed order asks for more than is available, then it is refused and nothing is written or released', async () => {
    const { placeOrder, orders, calls } = harness();
    await expect(placeOrder(request(undefined, 11))).rejects.toBeInstanceOf(InsufficientStockError);
    expect(orders.size).toBe(0);
    expect(calls).toEqual(['reserve 1']);
  });

  it('when inventory is unreachable, then the possible reservation is released, the order fails and the key is freed', async () => {
    const { placeOrder, keys, calls } = harness({ reserve: async () => Promise.reject(new DependencyUnavailableError('inventory')) });
    await expect(placeOrder(request('k'))).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(calls).toEqual(['release 1 placement-failed', 'fail 1 owesRelease=false stored=none']);
    expect(keys.has('c1/k')).toBe(false);
  });

  it('when inventory refuses at once because it is overloaded, then nothing is released or stored (the claim is withdrawn) and a retry with the same key succeeds', async () => {
    let busy = true;
    const { placeOrder, keys, orders, calls } = harness({
      reserve: async (orderId) => {
        calls.push(`reserve ${orderId}`);
        if (busy) throw new InventoryOverloadedError(1_500);
      },
    });
    await expect(placeOrder(request('k'))).rejects.toMatchObject({ reason: 'too-many-requests', retryAfterMs: 1_500 });
    expect(calls).toEqual(['reserve 1', 'withdraw 1']);
    expect([orders.size, keys.size]).toEqual([0, 0]);
    busy = false;
    const { order, replayed } = await placeOrder(request('k'));
    expect([order.id, order.status, replayed]).toEqual(['2', 'RESERVED', false]);
  });

  it('when inventory refuses an unkeyed order at once because it is overloaded, then nothing is released or written', async () => {
    const { placeOrder, orders, calls } = harness({ reserve: async () => Promise.reject(new InventoryOverloadedError(1_000)) });
    await expect(placeOrder(request())).rejects.toBeInstanceOf(InventoryOverloadedError);
    expect([calls, orders.size]).toEqual([[], 0]);
  });

  it('when even the release fails, then a keyed order owes a release for the settler, and an unkeyed one leaves nothing stored', async () => {
    const unreachable = {
      reserve: async () => Promise.reject(new DependencyUnavailableError('inventory')),
      release: async () => Promise.reject(new DependencyUnavailableError('inventory')),
    };
    const keyed = harness(unreachable);
    await expect(keyed.placeOrder(request('k'))).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(keyed.calls).toEqual(['fail 1 owesRelease=true stored=none']);
    const unkeyed = harness(unreachable);
    await expect(unkeyed.placeOrder(request())).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect([unkeyed.calls, unkeyed.orders.size]).toEqual([[], 0]);
  });

  it('when a price differs, then nothing is reserved or written and the current price is named', async () => {
    const { placeOrder, calls, orders } = harness();
    const error = await placeOrder({ ...request(), items: [{ productId: 'p', quantity: 1, unitPriceMinor: 90 }] }).catch((e) => e);
    expect(error).toBeInstanceOf(PriceChangedError);
    expect(error.prices).toEqual([{ productId: 'p', requestedUnitPriceMinor: 90, currentUnitPriceMinor: 100 }]);
    expect([calls, orders.size]).toEqual([['reserve 1'], 0]);
  });

  it('when a key is replayed, then the first answer returns; with another body it is refused', async () => {
    const { placeOrder } = harness();
    const first = await placeOrder(request('k'));
    expect(await placeOrder(request('k'))).toEqual({ order: first.order, replayed: true });
    await expect(placeOrder(request('k', 2))).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('when another placement holds the id in inventory, then an unkeyed order tries a fresh id and releases nothing', async () => {
    let taken = true;
    const { placeOrder, calls } = harness({
      reserve: async (orderId) => {
        calls.push(`reserve ${orderId}`);
        if (taken) {
          taken = false;
          throw new OrderIdTakenError(orderId);
        }
      },
    });
    expect((await placeOrder(request())).order.id).toBe('2');
    expect(calls).toEqual(['reserve 1', 'reserve 2', 'insert 2', 'notify']);
  });

  it('when the id is already stored on its shard, then the stock held for it goes back and the order is placed under a fresh id', async () => {
    const { placeOrder, orders, calls } = harness();
    orders.set('1', { id: '1' } as Order);
    expect((await placeOrder(request())).order.id).toBe('2');
    expect(calls).toEqual(['reserve 1', 'insert 1', 'release 1 placement-failed', 'reserve 2', 'insert 2', 'notify']);
  });

  it('when the write fails, then the stock goes back, unless the order turns out stored (then it is the answer)', async () => {
    const lost = harness({}, { insertPlaced: async () => Promise.reject(new Error('connection lost')) });
    await expect(lost.placeOrder(request())).rejects.toThrow('connection lost');
    expect(lost.calls).toEqual(['reserve 1', 'release 1 placement-failed']);

    const committed = new Map<string, Order>();
    const insert = async (event: { order: Order }) => {
      committed.set(event.order.id, event.order);
      throw new Error('connection lost after COMMIT');
    };
    const stored = harness({}, { insertPlaced: insert, get: async (id) => committed.get(id) });
    const { order } = await stored.placeOrder(request());
    expect(order.status).toBe('RESERVED');
    expect(stored.calls).toEqual(['reserve 1', 'notify']);

    // The shard cannot even be read: the reservation is left to its expiry rather than risk a stored order without stock.
    const unknown = harness(
      {},
      { insertPlaced: async () => Promise.reject(new Error('connection lost')), get: async () => Promise.reject(new Error('still down')) },
    );
    await expect(unknown.placeOrder(request())).rejects.toThrow('connection lost');
    expect(unknown.calls).toEqual(['reserve 1']);
  });

  it('when another placement holds a keyed order id, then the order fails without a release and the key is freed', async () => {
    const { placeOrder, keys, calls } = harness({ reserve: async (orderId) => Promise.reject(new OrderIdTakenError(orderId)) });
    await expect(placeOrder(request('k'))).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(calls).toEqual(['fail 1 owesRelease=false stored=none']);
    expect(keys.has('c1/k')).toBe(false);
  });

  it('when inventory said a product is sold out, then the next orders for it are refused without asking it until the cache time is up', async () => {
    let asked = 0;
    const { placeOrder } = harness(
      {
        reserve: async () => {
          asked++;
          throw new InsufficientStockError([{ productId: 'p', requested: 1, available: 0 }]);
        },
      },
      {},
      60_000,
    );
    await expect(placeOrder(request())).rejects.toBeInstanceOf(InsufficientStockError);
    const second = await placeOrder(request(undefined, 2)).catch((e) => e);
    expect(second).toBeInstanceOf(InsufficientStockError);
    expect(second.shortages).toEqual([{ productId: 'p', requested: 2, available: 0 }]);
    expect(asked).toBe(1);
    // Without the cache every order asks.
    let askedWithout = 0;
    const plain = harness({
      reserve: async () => {
        askedWithout++;
        throw new InsufficientStockError([{ productId: 'p', requested: 1, available: 0 }]);
      },
    });
    await plain.placeOrder(request()).catch(() => undefined);
    await plain.placeOrder(request()).catch(() => undefined);
    expect(askedWithout).toBe(2);
  });
});
