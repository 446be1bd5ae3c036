import {
  DependencyUnavailableError,
  IdempotencyKeyReusedError,
  InsufficientStockError,
  InvalidArgumentError,
  InventoryOverloadedError,
  OrderIdTakenError,
  PriceChangedError,
} from './errors';
import type { Order } from './model';
import type { ClaimResult, IdempotencyRecord, InventoryPort, OrderRepository } from './ports';
import { createPlaceOrder } from './place-order.use-case';
import { requestFingerprint, validatePlaceOrder } from './validation';
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
    insertPlacedWithKey: async (event, idem) => {
      calls.push(`insert-with-key ${event.order.id}`);
      const existing = keys.get(`${event.order.customerId}/${idem.key}`);
      if (existing) return { kind: 'existing-key', record: existing };
      if (orders.has(event.order.id)) return { kind: 'duplicate-id' };
      orders.set(event.order.id, event.order);
      keys.set(`${event.order.customerId}/${idem.key}`, {
        fingerprint: idem.fingerprint,
        orderId: event.order.id,
        state: 'DONE',
        outcome: { kind: 'order', order: event.order },
      });
      return { kind: 'stored' };
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

/** A placement under a key the gateway made for its own repeat. */
const gatewayRequest = (key: string, quantity = 1) => ({ ...request(key, quantity), keyMadeByGateway: true });

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

describe("PlaceOrder under the gateway's own key (no claim: ADR 0007)", () => {
  it('when placed, then stock is reserved first and one write stores the order with its key already DONE (no claim, nothing PENDING)', async () => {
    const { placeOrder, orders, keys, calls } = harness();
    const { order, replayed } = await placeOrder(gatewayRequest('gk'));
    expect([order.id, order.status, order.version, replayed]).toEqual(['1', 'RESERVED', 1, false]);
    expect(calls).toEqual(['reserve 1', 'insert-with-key 1', 'notify']);
    expect(orders.get('1')).toEqual(order);
    expect(keys.get('c1/gk')).toMatchObject({ orderId: '1', state: 'DONE', outcome: { kind: 'order', order } });
  });

  it('when the call is repeated with the key, then the first order is replayed and the stock the repeat held goes back', async () => {
    const { placeOrder, orders, calls } = harness();
    const first = await placeOrder(gatewayRequest('gk'));
    calls.length = 0;
    expect(await placeOrder(gatewayRequest('gk'))).toEqual({ order: first.order, replayed: true });
    expect(calls).toEqual(['reserve 2', 'insert-with-key 2', 'release 2 placement-failed']);
    expect([...orders.keys()]).toEqual(['1']);
  });

  it('when inventory refuses, then nothing is stored (no key, no order) and a repeat after a restock places the order', async () => {
    let stock = 0;
    const { placeOrder, orders, keys, calls } = harness({
      reserve: async (orderId, items) => {
        calls.push(`reserve ${orderId}`);
        if (items[0]!.quantity > stock) throw new InsufficientStockError([{ productId: 'p', requested: items[0]!.quantity, available: stock }]);
      },
    });
    await expect(placeOrder(gatewayRequest('gk'))).rejects.toBeInstanceOf(InsufficientStockError);
    expect([calls, orders.size, keys.size]).toEqual([['reserve 1'], 0, 0]);
    stock = 5;
    const { order, replayed } = await placeOrder(gatewayRequest('gk'));
    expect([order.id, order.status, replayed]).toEqual(['2', 'RESERVED', false]);
  });

  it('when the repeat of a call that stored is refused for the stock that call holds, then the key answers: the first order is replayed', async () => {
    let stock = 1;
    const { placeOrder } = harness({
      reserve: async (_orderId, items) => {
        if (items[0]!.quantity > stock) throw new InsufficientStockError([{ productId: 'p', requested: items[0]!.quantity, available: stock }]);
        stock -= items[0]!.quantity;
      },
    });
    const first = await placeOrder(gatewayRequest('gk'));
    expect(await placeOrder(gatewayRequest('gk'))).toEqual({ order: first.order, replayed: true });
    // A refusal under a key nobody used is the refusal.
    await expect(placeOrder(gatewayRequest('other'))).rejects.toBeInstanceOf(InsufficientStockError);
  });

  it('when the key was used with another body, then the call is refused as reused and the stock it held goes back', async () => {
    const { placeOrder, orders, calls } = harness();
    await placeOrder(gatewayRequest('gk'));
    calls.length = 0;
    await expect(placeOrder(gatewayRequest('gk', 2))).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(calls).toEqual(['reserve 2', 'insert-with-key 2', 'release 2 placement-failed']);
    expect(orders.size).toBe(1);
  });

  it('when a claim-path call holds the key IN_FLIGHT, then the call waits for it as the claim path does and replays its answer', async () => {
    const { placeOrder, keys, calls } = harness();
    const earlier = { id: 'e1', status: 'RESERVED' } as Order;
    const fingerprint = requestFingerprint(validatePlaceOrder(gatewayRequest('gk'), DEFAULT_ORDER_LIMITS));
    keys.set('c1/gk', { fingerprint, orderId: 'e1', state: 'IN_FLIGHT' });
    setTimeout(() => Object.assign(keys.get('c1/gk')!, { state: 'DONE', outcome: { kind: 'order', order: earlier } }), 30);
    expect(await placeOrder(gatewayRequest('gk'))).toEqual({ order: earlier, replayed: true });
    expect(calls.slice(0, 3)).toEqual(['reserve 1', 'insert-with-key 1', 'release 1 placement-failed']);
  });

  it('when the id is already stored on its shard, then the stock held for it goes back and the order is placed under a fresh id', async () => {
    const { placeOrder, orders, calls } = harness();
    orders.set('1', { id: '1' } as Order);
    expect((await placeOrder(gatewayRequest('gk'))).order.id).toBe('2');
    expect(calls).toEqual(['reserve 1', 'insert-with-key 1', 'release 1 placement-failed', 'reserve 2', 'insert-with-key 2', 'notify']);
  });

  it('when the write fails, then the stock goes back, unless the order turns out stored (then it is the answer)', async () => {
    const lost = harness({}, { insertPlacedWithKey: async () => Promise.reject(new Error('connection lost')) });
    await expect(lost.placeOrder(gatewayRequest('gk'))).rejects.toThrow('connection lost');
    expect(lost.calls).toEqual(['reserve 1', 'release 1 placement-failed']);

    const committed = new Map<string, Order>();
    const stored = harness(
      {},
      {
        insertPlacedWithKey: async (event) => {
          committed.set(event.order.id, event.order);
          throw new Error('connection lost after COMMIT');
        },
        get: async (id) => committed.get(id),
      },
    );
    expect((await stored.placeOrder(gatewayRequest('gk'))).order.status).toBe('RESERVED');
    expect(stored.calls).toEqual(['reserve 1', 'notify']);
  });

  it('when the flag comes without a key, then the call is INVALID_ARGUMENT naming the flag', async () => {
    const { placeOrder, calls } = harness();
    const error = await placeOrder({ ...request(), keyMadeByGateway: true }).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.violations.map((v: { field: string }) => v.field)).toEqual(['idempotency_key_made_by_gateway']);
    expect(calls).toEqual([]);
  });

  it('when a client sends its own key, then the claim path is taken (a claim first, a refusal stored)', async () => {
    const { placeOrder, keys } = harness({ reserve: async () => Promise.reject(new InsufficientStockError([{ productId: 'p', requested: 1, available: 0 }])) });
    await expect(placeOrder({ ...request('ck'), keyMadeByGateway: false })).rejects.toBeInstanceOf(InsufficientStockError);
    expect(keys.get('c1/ck')).toMatchObject({ state: 'DONE', outcome: { kind: 'error' } });
  });
});
