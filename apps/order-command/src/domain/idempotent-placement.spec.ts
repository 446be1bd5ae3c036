import { IdempotencyKeyInFlightError, IdempotencyKeyReusedError, InsufficientStockError } from './errors';
import { createIdempotentPlacement, decideClaim } from './idempotent-placement';
import type { Order, PlaceOrderCommand } from './model';
import type { ClaimResult, IdempotencyRecord, OrderRepository } from './ports';
import { requestFingerprint } from './validation';

const command: PlaceOrderCommand = {
  customerId: 'c1',
  idempotencyKey: 'k',
  items: [{ productId: 'p', quantity: 1, unitPriceMinor: 100 }],
  address: 'a',
  paymentMethod: 'card',
};
const fingerprint = requestFingerprint(command);
const record = (state: IdempotencyRecord['state'], print = fingerprint, outcome?: IdempotencyRecord['outcome']): IdempotencyRecord => ({
  fingerprint: print,
  orderId: 'o1',
  state,
  outcome,
});

describe('the claim of a keyed placement (decideClaim)', () => {
  it('when the claim is made, then this call places the order', () => {
    expect(decideClaim({ kind: 'claimed' }, fingerprint)).toEqual({ kind: 'place' });
  });

  it('when another process made the same order id, then a fresh id is drawn', () => {
    expect(decideClaim({ kind: 'duplicate-id' }, fingerprint)).toEqual({ kind: 'draw-new-id' });
  });

  it('when the key finished with the same body, then its stored answer is replayed', () => {
    const done = record('DONE', fingerprint, { kind: 'order', order: { id: 'o1' } as Order });
    expect(decideClaim({ kind: 'existing-key', record: done }, fingerprint)).toEqual({ kind: 'replay', record: done });
  });

  it('when the key is still in flight with the same body, then the first call is awaited', () => {
    const inFlight = record('IN_FLIGHT');
    expect(decideClaim({ kind: 'existing-key', record: inFlight }, fingerprint)).toEqual({ kind: 'await-first-call', record: inFlight });
  });

  for (const state of ['IN_FLIGHT', 'DONE'] as const) {
    it(`when the key is ${state} with another body, then it is refused as reused (nothing replayed or awaited)`, () => {
      expect(decideClaim({ kind: 'existing-key', record: record(state, 'another body') }, fingerprint)).toEqual({ kind: 'refuse-reused' });
    });
  }
});

/** The claims the repository answers, in turn; the orders drawn and the claims made are recorded. */
function harness(claims: ClaimResult[], keyAfterWait?: IdempotencyRecord) {
  const calls: string[] = [];
  let n = 0;
  const repository = {
    claim: async (order: Order, idempotency: { key: string; fingerprint: string; owner?: string }) => {
      calls.push(`claim ${order.id} ${idempotency.key} owner=${idempotency.owner}`);
      return claims.shift() ?? { kind: 'claimed' };
    },
    findIdempotency: async () => keyAfterWait,
  } as unknown as OrderRepository;
  const placeWithKey = createIdempotentPlacement({
    repository,
    inventory: {} as never,
    owners: { self: () => 'me', isGone: async () => false },
    log: { warn: () => undefined, error: () => undefined },
    settings: { inFlightWaitMs: 200 },
    nextOrder: () => ({ id: `${++n}` }) as Order,
    placeClaimed: async (order, key) => {
      calls.push(`place ${order.id} ${key}`);
      return { order, replayed: false };
    },
  });
  return { placeWithKey: () => placeWithKey(command, 'k'), calls };
}

describe('a keyed placement (createIdempotentPlacement)', () => {
  it('when the claim is made, then the claimed order is placed, the claim naming this process', async () => {
    const { placeWithKey, calls } = harness([{ kind: 'claimed' }]);
    expect(await placeWithKey()).toEqual({ order: { id: '1' }, replayed: false });
    expect(calls).toEqual(['claim 1 k owner=me', 'place 1 k']);
  });

  it('when the first ids are taken by another process, then each claim draws a fresh id, and after five it answers in flight', async () => {
    const twice = harness([{ kind: 'duplicate-id' }, { kind: 'duplicate-id' }]);
    expect((await twice.placeWithKey()).order.id).toBe('3');
    expect(twice.calls).toEqual(['claim 1 k owner=me', 'claim 2 k owner=me', 'claim 3 k owner=me', 'place 3 k']);
    const always = harness(Array.from({ length: 5 }, () => ({ kind: 'duplicate-id' as const })));
    await expect(always.placeWithKey()).rejects.toBeInstanceOf(IdempotencyKeyInFlightError);
    expect(always.calls).toHaveLength(5);
  });

  it('when the key was used with another body, then it is refused at once', async () => {
    const { placeWithKey, calls } = harness([{ kind: 'existing-key', record: record('IN_FLIGHT', 'another body') }]);
    await expect(placeWithKey()).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(calls).toEqual(['claim 1 k owner=me']);
  });

  it('when the key finished, then its stored answer (an order or a refusal) is replayed', async () => {
    const order = { id: 'o1' } as Order;
    const finished = (outcome: IdempotencyRecord['outcome']) => harness([{ kind: 'existing-key', record: record('DONE', fingerprint, outcome) }]);
    await expect(finished({ kind: 'order', order }).placeWithKey()).resolves.toEqual({ order, replayed: true });
    const refusal = new InsufficientStockError([{ productId: 'p', requested: 1, available: 0 }]);
    await expect(finished({ kind: 'error', error: refusal }).placeWithKey()).rejects.toBe(refusal);
  });

  it('when the first call in flight frees its key, then this call claims afresh under a new id and places it', async () => {
    const { placeWithKey, calls } = harness([{ kind: 'existing-key', record: record('IN_FLIGHT') }], undefined);
    expect((await placeWithKey()).order.id).toBe('2');
    expect(calls).toEqual(['claim 1 k owner=me', 'claim 2 k owner=me', 'place 2 k']);
  });

  it('when the first call in flight finishes, then its answer is replayed', async () => {
    const order = { id: 'o1' } as Order;
    const { placeWithKey } = harness([{ kind: 'existing-key', record: record('IN_FLIGHT') }], record('DONE', fingerprint, { kind: 'order', order }));
    await expect(placeWithKey()).resolves.toEqual({ order, replayed: true });
  });
});
