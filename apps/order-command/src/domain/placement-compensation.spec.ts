import {
  DependencyUnavailableError,
  IdempotencyKeyInFlightError,
  InsufficientStockError,
  InventoryOverloadedError,
  OrderIdTakenError,
  PriceChangedError,
  UnknownProductError,
} from './errors';
import type { Order } from './model';
import { createPlacementCompensation, reserveFailure } from './placement-compensation';
import type { InventoryPort, OrderRepository } from './ports';

const shortStock = new InsufficientStockError([{ productId: 'p', requested: 2, available: 1 }]);
const priceChanged = new PriceChangedError([{ productId: 'p', requestedUnitPriceMinor: 90, currentUnitPriceMinor: 100 }]);
const unknownProduct = new UnknownProductError(['p']);

describe('how a failed Reserve left inventory (reserveFailure)', () => {
  it.each([
    ['short stock', shortStock, 'refused'],
    ['a changed price', priceChanged, 'refused'],
    ['an unknown product', unknownProduct, 'refused'],
    ['an overloaded product queue', new InventoryOverloadedError(1_000), 'overloaded'],
    ['an order id another placement holds', new OrderIdTakenError('1'), 'id-taken'],
    ['inventory unreachable', new DependencyUnavailableError('inventory'), 'unknown'],
    ['any other error', new Error('socket hang up'), 'unknown'],
  ])('when the Reserve failed for %s, then it is %s', (_name, error, expected) => {
    expect(reserveFailure(error)).toBe(expected);
  });
});

const order = { id: '1', customerId: 'c1' } as Order;

function harness(options: { releaseFails?: boolean; stored?: () => Promise<Order | undefined> } = {}) {
  const calls: string[] = [];
  const repository = {
    failPlacement: async (orderId: string, _customerId: string, o: { idempotencyKey?: string; outcome?: { kind: string }; owesRelease: boolean }) => {
      calls.push(`fail ${orderId} key=${o.idempotencyKey} owesRelease=${o.owesRelease} stored=${o.outcome?.kind ?? 'none'}`);
      return true;
    },
    withdrawClaim: async (orderId: string) => void calls.push(`withdraw ${orderId}`),
    get: async () => (options.stored ?? (async () => undefined))(),
  } as unknown as OrderRepository;
  const inventory = {
    release: async (orderId: string, reason: string) => {
      calls.push(`release ${orderId} ${reason}`);
      if (options.releaseFails) throw new DependencyUnavailableError('inventory');
    },
  } as unknown as InventoryPort;
  return { compensate: createPlacementCompensation({ repository, inventory, log: { warn: () => undefined, error: () => undefined } }), calls };
}

describe('what a keyed placement undoes when its Reserve fails (claimedReserveFailed)', () => {
  it('when the Reserve was refused, then the refusal is stored under the key, nothing is released, and the refusal is the answer', async () => {
    const { compensate, calls } = harness();
    await expect(compensate.claimedReserveFailed(order, 'k', shortStock)).resolves.toBe(shortStock);
    expect(calls).toEqual(['fail 1 key=k owesRelease=false stored=error']);
  });

  it('when inventory was overloaded, then the claim is withdrawn and the refusal is the answer, not stored', async () => {
    const overloaded = new InventoryOverloadedError(1_000);
    const { compensate, calls } = harness();
    await expect(compensate.claimedReserveFailed(order, 'k', overloaded)).resolves.toBe(overloaded);
    expect(calls).toEqual(['withdraw 1']);
  });

  it('when another placement holds the id, then nothing is released, the key is freed, and the answer is inventory unavailable', async () => {
    const { compensate, calls } = harness();
    const answer = await compensate.claimedReserveFailed(order, 'k', new OrderIdTakenError('1'));
    expect(answer).toBeInstanceOf(DependencyUnavailableError);
    expect(calls).toEqual(['fail 1 key=k owesRelease=false stored=none']);
  });

  it('when the Reserve may have gone through, then the stock is released and the key freed; if the release fails, the failed order owes it', async () => {
    const unreachable = new DependencyUnavailableError('inventory');
    const released = harness();
    await expect(released.compensate.claimedReserveFailed(order, 'k', unreachable)).resolves.toBe(unreachable);
    expect(released.calls).toEqual(['release 1 placement-failed', 'fail 1 key=k owesRelease=false stored=none']);
    const owed = harness({ releaseFails: true });
    await owed.compensate.claimedReserveFailed(order, 'k', unreachable);
    expect(owed.calls).toEqual(['release 1 placement-failed', 'fail 1 key=k owesRelease=true stored=none']);
  });

  it('when the claim was lost before the order was stored, then the stock goes back, the key is freed, and the answer is in flight', async () => {
    const { compensate, calls } = harness();
    expect(await compensate.claimLost(order, 'k')).toBeInstanceOf(IdempotencyKeyInFlightError);
    expect(calls).toEqual(['release 1 placement-failed', 'fail 1 key=k owesRelease=false stored=none']);
  });
});

describe('what an unkeyed placement undoes', () => {
  it('when its Reserve may have gone through, then the stock is released; when it was refused or overloaded, nothing is', async () => {
    for (const [error, expected] of [
      [new DependencyUnavailableError('inventory'), ['release 1 placement-failed']],
      [shortStock, []],
      [new InventoryOverloadedError(1_000), []],
    ] as const) {
      const { compensate, calls } = harness();
      await compensate.reserveFailed(order, error);
      expect(calls).toEqual(expected);
    }
  });

  it('when its write failed but the order is stored after all, then that order is the answer and nothing is released', async () => {
    const { compensate, calls } = harness({ stored: async () => order });
    await expect(compensate.insertFailed('1', new Error('connection lost'))).resolves.toBe(order);
    expect(calls).toEqual([]);
  });

  it('when its write failed and the order is not stored, then the stock goes back', async () => {
    const { compensate, calls } = harness();
    await expect(compensate.insertFailed('1', new Error('connection lost'))).resolves.toBeUndefined();
    expect(calls).toEqual(['release 1 placement-failed']);
  });

  it('when the shard fails once and then answers, then it is asked again before deciding', async () => {
    let reads = 0;
    const { compensate, calls } = harness({ stored: async () => (reads++ === 0 ? Promise.reject(new Error('dropped connection')) : undefined) });
    await expect(compensate.insertFailed('1', new Error('connection lost'))).resolves.toBeUndefined();
    expect([reads, calls]).toEqual([2, ['release 1 placement-failed']]);
  });

  it('when the shard cannot even be read (three tries), then the reservation is left to expire', async () => {
    let reads = 0;
    const { compensate, calls } = harness({ stored: async () => (reads++, Promise.reject(new Error('still down'))) });
    await expect(compensate.insertFailed('1', new Error('connection lost'))).resolves.toBeUndefined();
    expect([reads, calls]).toEqual([3, []]);
  });
});
