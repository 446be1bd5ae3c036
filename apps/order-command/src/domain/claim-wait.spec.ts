import { createClaimWait, replayStored } from './claim-wait';
import { DependencyUnavailableError, IdempotencyKeyInFlightError, IdempotencyKeyReusedError, InsufficientStockError } from './errors';
import type { ClaimOwners, IdempotencyRecord, InventoryPort, OrderRepository } from './ports';

const claim = (orderId: string, owner?: string): IdempotencyRecord => ({ fingerprint: 'f', orderId, state: 'IN_FLIGHT', ...(owner ? { owner } : {}) });

/** The key as a mutable cell, owners whose liveness the test decides, and a log of what was done. */
function harness(
  options: {
    alive?: (owner: string) => boolean | Promise<boolean>;
    failPlacement?: () => boolean;
    waitMs?: number;
    checkEveryMs?: number;
    noOwners?: boolean;
  } = {},
) {
  let key: IdempotencyRecord | undefined = claim('o1', 'dead-or-alive');
  const calls: string[] = [];
  const asked: string[] = [];
  const repository = {
    findIdempotency: async () => key,
    failPlacement: async (orderId: string, _customerId: string, o: { owesRelease: boolean }) => {
      calls.push(`fail ${orderId} owesRelease=${o.owesRelease}`);
      const failed = options.failPlacement?.() ?? true;
      if (failed && key?.orderId === orderId) key = undefined;
      return failed;
    },
    markStockSettled: async (orderId: string) => void calls.push(`settled ${orderId}`),
  } as unknown as OrderRepository;
  const inventory = { release: async (orderId: string, reason: string) => void calls.push(`release ${orderId} ${reason}`) } as unknown as InventoryPort;
  const owners: ClaimOwners = {
    self: () => 'me',
    isGone: async (_customerId, owner) => {
      asked.push(owner);
      return !(await (options.alive ?? (() => true))(owner));
    },
  };
  const wait = createClaimWait({
    repository,
    inventory,
    owners: options.noOwners ? undefined : owners,
    log: { warn: () => undefined, error: () => undefined },
    settings: { inFlightWaitMs: options.waitMs ?? 600, ownerCheckIntervalMs: options.checkEveryMs ?? 250 },
  });
  return {
    wait: (first: IdempotencyRecord) => wait('c1', 'k', first, 'f'),
    setKey: (record: IdempotencyRecord | undefined) => (key = record),
    calls,
    asked,
  };
}

describe('a duplicate of a keyed call in flight (claim wait)', () => {
  it("when the claim's owner is gone, then at once its order fails with a release owed, its stock goes back, and the key is free for a fresh placement", async () => {
    const { wait, calls, asked } = harness({ alive: () => false });
    const started = Date.now();
    await expect(wait(claim('o1', 'dead'))).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(100);
    expect(asked).toEqual(['dead']);
    expect(calls).toEqual(['fail o1 owesRelease=true', 'release o1 placement-taken-over', 'settled o1']);
  });

  it('when the owner lives, then it waits as before and answers idempotency-key-in-flight, asking about the owner every 250 ms, not at every read of the key', async () => {
    const { wait, calls, asked } = harness({ alive: () => true, waitMs: 600 });
    await expect(wait(claim('o1', 'alive'))).rejects.toBeInstanceOf(IdempotencyKeyInFlightError);
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(asked.length).toBeLessThanOrEqual(4); // at 0, ~250 and ~500 ms
    expect(calls).toEqual([]);
  });

  it('when the claim names no owner (written before owners were recorded), then nobody is asked and it only waits', async () => {
    const { wait, setKey, calls, asked } = harness({ alive: () => false, waitMs: 200 });
    setKey(claim('o1'));
    await expect(wait(claim('o1'))).rejects.toBeInstanceOf(IdempotencyKeyInFlightError);
    expect(asked).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('when this process knows no owners, then it only waits', async () => {
    const { wait, calls } = harness({ noOwners: true, waitMs: 200 });
    await expect(wait(claim('o1', 'dead'))).rejects.toBeInstanceOf(IdempotencyKeyInFlightError);
    expect(calls).toEqual([]);
  });

  it('when the owner dies while the duplicate waits, then the claim is taken over at the next check', async () => {
    const diesAt = Date.now() + 300;
    const { wait, calls, asked } = harness({ alive: () => Date.now() < diesAt, waitMs: 3_000 });
    const started = Date.now();
    await expect(wait(claim('o1', 'dying'))).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2_000); // about 500 ms; far from the 3 s wait
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(calls[0]).toBe('fail o1 owesRelease=true');
  });

  it('when the owner cannot be asked (its shard does not answer), then it counts as alive: nothing is taken over', async () => {
    const { wait, calls } = harness({ alive: () => Promise.reject(new DependencyUnavailableError('shard')), waitMs: 300 });
    await expect(wait(claim('o1', 'unknown'))).rejects.toBeInstanceOf(IdempotencyKeyInFlightError);
    expect(calls).toEqual([]);
  });

  it('when the claim is no longer PENDING by the time it is taken over (the owner completed it), then nothing is released and the caller reads the key again', async () => {
    const { wait, calls } = harness({ alive: () => false, failPlacement: () => false });
    await expect(wait(claim('o1', 'late'))).resolves.toBeUndefined();
    expect(calls).toEqual(['fail o1 owesRelease=true']);
  });

  it('when another duplicate took the claim over meanwhile (a new claim under the key), then the new owner is asked at once', async () => {
    // Owners are asked every 10 s here: only a new claim makes the waiter ask again before the wait ends.
    const { wait, setKey, asked } = harness({ alive: (owner) => owner !== 'second', waitMs: 3_000, checkEveryMs: 10_000 });
    setTimeout(() => setKey(claim('o2', 'second')), 60);
    await expect(wait(claim('o1', 'first'))).resolves.toBeUndefined();
    expect(asked).toEqual(['first', 'second']);
  });

  it('when the first call finishes while the duplicate waits, then its stored answer is replayed', async () => {
    const { wait, setKey } = harness({ alive: () => true });
    const order = { id: 'o1' } as never;
    setTimeout(() => setKey({ ...claim('o1', 'alive'), state: 'DONE', outcome: { kind: 'order', order } }), 60);
    await expect(wait(claim('o1', 'alive'))).resolves.toEqual({ order, replayed: true });
  });
});

describe("a finished call's stored answer (replayStored)", () => {
  it('when the body is the same, then the stored order is replayed', () => {
    const order = { id: 'o1' } as never;
    expect(replayStored({ ...claim('o1'), state: 'DONE', outcome: { kind: 'order', order } }, 'f')).toEqual({ order, replayed: true });
  });

  it('when the stored answer is a refusal, then the same refusal is thrown', () => {
    const refusal = new InsufficientStockError([{ productId: 'p', requested: 1, available: 0 }]);
    expect(() => replayStored({ ...claim('o1'), state: 'DONE', outcome: { kind: 'error', error: refusal } }, 'f')).toThrow(refusal);
  });

  it('when the body differs, then it is refused as a reused key', () => {
    const done: IdempotencyRecord = { ...claim('o1'), state: 'DONE', outcome: { kind: 'order', order: { id: 'o1' } as never } };
    expect(() => replayStored(done, 'other')).toThrow(IdempotencyKeyReusedError);
  });
});
