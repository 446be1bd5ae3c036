import { IdempotencyKeyInFlightError, IdempotencyKeyReusedError } from './errors';
import type { Order } from './model';
import type { ClaimOwners, IdempotencyRecord, InventoryPort, Log, OrderRepository, StoredOutcome, WaitBudget } from './ports';

/** How often a waiter reads the key; asking whether the owner lives costs more and is done less often. */
const KEY_POLL_MS = 25;
const OWNER_CHECK_INTERVAL_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A finished call's stored answer, for a call with the same key and body. */
export function replayStored(record: IdempotencyRecord, fingerprint: string): { order: Order; replayed: true } {
  if (record.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError();
  const outcome = record.outcome as StoredOutcome;
  if (outcome.kind === 'error') throw outcome.error;
  return { order: outcome.order, replayed: true };
}

export interface ClaimWaitDeps {
  repository: OrderRepository;
  inventory: InventoryPort;
  /** Without it (or for a claim that names no owner) a duplicate only waits. */
  owners?: ClaimOwners;
  log: Log;
  settings: {
    /** How long a duplicate call waits for the first call with its key to finish. */
    inFlightWaitMs: number;
    /** How often the claim's owner is asked after; default 250 ms. */
    ownerCheckIntervalMs?: number;
  };
  waits?: WaitBudget;
}

/**
 * A duplicate of a keyed call still in flight (ADR 0006): wait for the first call's answer, unless the
 * process that owns the claim is gone (killed mid-placement: nothing will ever finish it), then take the
 * claim over. Taking over fails the claim's order only if it is still PENDING, so an owner that was in
 * fact alive can neither complete it afterwards nor have a completed order failed: completion and
 * failure are both guarded by the PENDING state on the same row.
 *
 * Resolves to the first call's stored answer, or to undefined when the key is free again (the first call
 * failed transiently, or was taken over): the caller then places afresh.
 */
export function createClaimWait({ repository, inventory, owners, log, settings, waits }: ClaimWaitDeps) {
  const checkEveryMs = settings.ownerCheckIntervalMs ?? OWNER_CHECK_INTERVAL_MS;

  /** A failed check proves nothing: the owner counts as alive. */
  const ownerGone = (customerId: string, owner: string) =>
    (owners as ClaimOwners).isGone(customerId, owner).catch((error: unknown) => {
      log.warn({ err: error, owner }, 'could not tell whether a claim owner lives; waiting for it');
      return false;
    });

  /**
   * Fails the dead placement (a RELEASE owed for whatever it reserved) and frees its key; then gives its
   * stock back at once, before this call reserves afresh (the settler retries if this fails).
   */
  const takeOver = async (customerId: string, claim: IdempotencyRecord) => {
    if (!(await repository.failPlacement(claim.orderId, customerId, { owesRelease: true }))) return; // finished meanwhile: the key says how
    log.warn({ orderId: claim.orderId, owner: claim.owner }, 'took over a placement whose process is gone');
    try {
      await inventory.release(claim.orderId, 'placement-taken-over');
      await repository.markStockSettled(claim.orderId);
    } catch (error) {
      log.warn({ err: error, orderId: claim.orderId }, 'release after a takeover failed; the settler gives the stock back');
    }
  };

  return async function awaitFirstCall(
    customerId: string,
    key: string,
    first: IdempotencyRecord,
    fingerprint: string,
  ): Promise<{ order: Order; replayed: true } | undefined> {
    if (first.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError();
    // Answer idempotency-key-in-flight before the caller's deadline, never after it.
    const deadline = Date.now() + (waits ? waits.cap(settings.inFlightWaitMs) : settings.inFlightWaitMs);
    let claim = first;
    let checkedOrderId: string | undefined;
    let nextCheckAt = 0;
    for (;;) {
      // At once for a claim not seen before, then every checkEveryMs.
      if (owners && claim.owner && (claim.orderId !== checkedOrderId || Date.now() >= nextCheckAt)) {
        checkedOrderId = claim.orderId;
        nextCheckAt = Date.now() + checkEveryMs;
        if (await ownerGone(customerId, claim.owner)) {
          await takeOver(customerId, claim);
          return undefined;
        }
      }
      if (Date.now() >= deadline) throw new IdempotencyKeyInFlightError();
      await sleep(KEY_POLL_MS);
      const current = await repository.findIdempotency(customerId, key);
      if (!current) return undefined; // the first call failed transiently and freed the key
      if (current.state === 'DONE') return replayStored(current, fingerprint);
      claim = current;
    }
  };
}
