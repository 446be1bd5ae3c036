import { DependencyUnavailableError, IdempotencyKeyReusedError, InsufficientStockError, PriceChangedError } from './errors';
import type { Order } from './model';
import type { ClaimResult, IdempotencyRecord, InventoryPort, OrderRepository } from './ports';
import { createPlaceOrder } from './place-order.use-case';
import { DEFAULT_ORDER_LIMITS } from './validation';

/** In-memory fakes for the use case's rules; the real repository and inventory are tested against real servers. */
function harness(inventory: Partial<InventoryPort> = {}) {
  const orders = new Map<string, Order>();
  const keys = new Map<string, IdempotencyRecord>();
  const calls: string[] = [];
  let n = 0;
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
    findIdempotency: async (customerId, key) => keys.get(`${customerId}/${key}`),
  };
  const port: InventoryPort = {
    catalog: async (ids) => new Map(ids.map((id) => [id, { priceMinor: 100, available: 10 }])),
    reserve: async (orderId) => void calls.push(`reserve ${orderId}`),
    commit: async () => undefined,
    release: async (orderId, reason) => void calls.push(`release ${orderId} ${reason}`),
    ...inventory,
  };
  const placeOrder = createPlaceOrder({
    repository: repository as OrderRepository,
    inventory: port,
    ids: { next: () => `${++n}`, isValid: () => true },
    clock: { now: () => new Date('2026-01-01T00:00:00Z') },
    outbox: { notify: () => calls.push('notify') },
    log: { warn: () => undefined, error: () => undefined },
    settings: { limits: DEFAULT_ORDER_LIMITS, paymentWindowMs: 60_000, reservationGraceMs: 1_000, inFlightWaitMs: 100 },
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
  it('when an order is placed, then it is RESERVED, totals its items, expires after the window, and wakes the relay', async () => {
    const { placeOrder, calls } = harness();
    const { order, replayed } = await placeOrder(request(undefined, 3));
    expect(replayed).toBe(false);
    expect(order).toMatchObject({ id: '1', status: 'RESERVED', version: 1, totalMinor: 300, address: '1 Main St', expiresAt: new Date('2026-01-01T00:01:00Z') });
    expect(calls).toEqual(['reserve 1', 'notify']);
  });

  it('when inventory refuses for stock, then the order fails without a release and the refusal is stored under the key', async () => {
    const { placeOrder, keys, calls } = harness({ reserve: async () => Promise.reject(new InsufficientStockError([{ productId: 'p', requested: 1, available: 0 }])) });
    await expect(placeOrder(request('k'))).rejects.toBeInstanceOf(InsufficientStockError);
    expect(calls).toEqual(['fail 1 owesRelease=false stored=error']);
    expect(keys.get('c1/k')?.state).toBe('DONE');
    await expect(placeOrder(request('k'))).rejects.toBeInstanceOf(InsufficientStockError);
  });

  it('when an unkeyed order asks for more than is available, then it is refused before anything is written', async () => {
    const { placeOrder, orders, calls } = harness();
    await expect(placeOrder(request(undefined, 11))).rejects.toBeInstanceOf(InsufficientStockError);
    expect(orders.size).toBe(0);
    expect(calls).toEqual([]);
  });

  it('when inventory is unreachable, then the possible reservation is released, the order fails and the key is freed', async () => {
    const { placeOrder, keys, calls } = harness({ reserve: async () => Promise.reject(new DependencyUnavailableError('inventory')) });
    await expect(placeOrder(request('k'))).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(calls).toEqual(['release 1 placement-failed', 'fail 1 owesRelease=false stored=none']);
    expect(keys.has('c1/k')).toBe(false);
  });

  it('when even the release fails, then the failed order owes a release for the settler', async () => {
    const { placeOrder, calls } = harness({
      reserve: async () => Promise.reject(new DependencyUnavailableError('inventory')),
      release: async () => Promise.reject(new DependencyUnavailableError('inventory')),
    });
    await expect(placeOrder(request())).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(calls).toEqual(['fail 1 owesRelease=true stored=none']);
  });

  it('when a price differs, then nothing is reserved and the current price is named', async () => {
    const { placeOrder, calls } = harness({ catalog: async () => new Map([['p', { priceMinor: 120, available: 10 }]]) });
    const error = await placeOrder(request()).catch((e) => e);
    expect(error).toBeInstanceOf(PriceChangedError);
    expect(error.prices).toEqual([{ productId: 'p', requestedUnitPriceMinor: 100, currentUnitPriceMinor: 120 }]);
    expect(calls.some((c) => c.startsWith('reserve'))).toBe(false);
  });

  it('when a key is replayed, then the first answer returns; with another body it is refused', async () => {
    const { placeOrder } = harness();
    const first = await placeOrder(request('k'));
    expect(await placeOrder(request('k'))).toEqual({ order: first.order, replayed: true });
    await expect(placeOrder(request('k', 2))).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });
});
