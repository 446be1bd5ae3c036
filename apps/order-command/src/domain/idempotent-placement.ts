import { ClaimWaitDeps, createClaimWait, replayStored } from './claim-wait';
import { IdempotencyKeyInFlightError, IdempotencyKeyReusedError } from './errors';
import type { Order, PlaceOrderCommand } from './model';
import type { ClaimResult, IdempotencyRecord } from './ports';
import { requestFingerprint } from './validation';

/** What a call does about a key that exists already: the first call with it decides the answer. */
export type ExistingKeyDecision =
  /** The key was first used with another body. */
  | { kind: 'refuse-reused' }
  /** The first call with the key finished: its stored answer is this call's. */
  | { kind: 'replay'; record: IdempotencyRecord }
  /** The first call is still in flight: wait for its answer, or take its claim over if its process is gone. */
  | { kind: 'await-first-call'; record: IdempotencyRecord };

export function decideExistingKey(record: IdempotencyRecord, fingerprint: string): ExistingKeyDecision {
  if (record.fingerprint !== fingerprint) return { kind: 'refuse-reused' };
  return record.state === 'DONE' ? { kind: 'replay', record } : { kind: 'await-first-call', record };
}

/** What a keyed placement does once its claim is answered. */
export type ClaimDecision =
  /** Claimed (the key IN_FLIGHT, the order PENDING): this call places the order. */
  | { kind: 'place' }
  /** Another process made the same order id in the same millisecond: claim again under a fresh id. */
  | { kind: 'draw-new-id' }
  | ExistingKeyDecision;

export function decideClaim(claim: ClaimResult, fingerprint: string): ClaimDecision {
  if (claim.kind === 'claimed') return { kind: 'place' };
  if (claim.kind === 'duplicate-id') return { kind: 'draw-new-id' };
  return decideExistingKey(claim.record, fingerprint);
}

export interface IdempotentPlacementDeps extends ClaimWaitDeps {
  /** A new PENDING order for the command, under a fresh id. */
  nextOrder(command: PlaceOrderCommand): Order;
  /** Places an order this call has claimed: reserve, store, answer. */
  placeClaimed(order: Order, key: string): Promise<{ order: Order; replayed: false }>;
}

/**
 * A placement with an idempotency key (Stripe's rule: the same key and body get the same answer and hold
 * stock once). The claim comes first, one transaction storing the key as IN_FLIGHT (naming this process
 * as its owner) and the order as PENDING, so that a refusal can be stored and replayed. A key that exists
 * already: replay its stored answer, or wait for the call still in flight (taking its claim over when its
 * process is gone: claim-wait.ts, ADR 0006) and claim afresh once the key is free again.
 */
export function createIdempotentPlacement({ nextOrder, placeClaimed, ...claimWait }: IdempotentPlacementDeps) {
  const { repository, owners } = claimWait;
  const awaitFirstCall = createClaimWait(claimWait);

  return async function placeWithKey(command: PlaceOrderCommand, key: string): Promise<{ order: Order; replayed: boolean }> {
    const fingerprint = requestFingerprint(command);
    for (let attempt = 0; attempt < 5; attempt++) {
      const order = nextOrder(command);
      const decision = decideClaim(await repository.claim(order, { key, fingerprint, owner: owners?.self(command.customerId) }), fingerprint);
      if (decision.kind === 'place') return placeClaimed(order, key);
      if (decision.kind === 'refuse-reused') throw new IdempotencyKeyReusedError();
      if (decision.kind === 'replay') return replayStored(decision.record, fingerprint);
      if (decision.kind === 'await-first-call') {
        const answer = await awaitFirstCall(command.customerId, key, decision.record, fingerprint);
        if (answer) return answer;
        // The key is free again (the first call gave up, or was taken over): claim afresh.
      }
    }
    throw new IdempotencyKeyInFlightError();
  };
}
