import { replayStored } from './claim-wait';
import { IdempotencyKeyReusedError } from './errors';
import { type FreshIdPlacement, ID_TAKEN } from './fresh-id-placement';
import { decideExistingKey, type ExistingKeyDecision } from './idempotent-placement';
import type { Order, PlaceOrderCommand } from './model';
import type { PlacementCompensation } from './placement-compensation';
import type { IdempotencyRecord, KeyedInsertResult, Log, OrderRepository } from './ports';
import { requestFingerprint } from './validation';

/** What a placement under the gateway's own key does once its order and key were written, or not. */
export type GatewayKeyedDecision =
  /** The order and the key's answer were stored together: this call placed the order. */
  | { kind: 'placed' }
  /** Another process made the same order id: give this attempt's stock back and reserve again under a fresh id. */
  | { kind: 'draw-new-id' }
  /** The key exists (an earlier call with it stored): nothing of this call was stored; its stock goes back. */
  | ExistingKeyDecision;

export function decideGatewayKeyed(result: KeyedInsertResult, fingerprint: string): GatewayKeyedDecision {
  if (result.kind === 'stored') return { kind: 'placed' };
  if (result.kind === 'duplicate-id') return { kind: 'draw-new-id' };
  return decideExistingKey(result.record, fingerprint);
}

/** What a placement under the gateway's own key answers when its Reserve failed: the failure, unless the key is there. */
export type GatewayKeyedFailureDecision = { kind: 'answer-failure' } | ExistingKeyDecision;

export function decideGatewayKeyedFailure(record: IdempotencyRecord | undefined, fingerprint: string): GatewayKeyedFailureDecision {
  return record ? decideExistingKey(record, fingerprint) : { kind: 'answer-failure' };
}

export interface GatewayKeyedPlacementDeps {
  repository: OrderRepository;
  log: Log;
  compensate: PlacementCompensation;
  /** A stored order's answer (wakes the relay). */
  placed(order: Order): { order: Order; replayed: false };
  /** Reserve under a fresh order id, then one write (fresh-id-placement.ts). */
  placeUnderFreshId: FreshIdPlacement;
  /** The claim path (idempotent-placement.ts), for a key a claim-path call still holds IN_FLIGHT. */
  placeWithKey(command: PlaceOrderCommand, key: string): Promise<{ order: Order; replayed: boolean }>;
}

/**
 * A placement under a key the gateway made for its own one repeat of a call cut off (ADR 0007): nobody else
 * will ever send the key, so no claim is stored before the stock is held. As without a key: Reserve first,
 * then one transaction (shared under load) stores the order as RESERVED with the key already DONE, its
 * answer the order. A key found there already (the repeat of a call that stored, or a repeat racing its
 * first call) rolls back only this call's order: its stock goes back and the key's answer is replayed (or,
 * held IN_FLIGHT by a claim-path call, waited for as the claim path does). Refusals are not stored: a
 * repeat runs again, but finds the key first when its first call stored. A process dying between Reserve
 * and the write leaves a reservation that inventory's sweeper releases at its expiry (ADR 0004).
 */
export function createGatewayKeyedPlacement({ repository, log, compensate, placed, placeUnderFreshId, placeWithKey }: GatewayKeyedPlacementDeps) {
  const answerOfKey = (command: PlaceOrderCommand, key: string, fingerprint: string, decision: ExistingKeyDecision) => {
    switch (decision.kind) {
      case 'refuse-reused':
        throw new IdempotencyKeyReusedError();
      case 'replay':
        return replayStored(decision.record, fingerprint);
      case 'await-first-call':
        return placeWithKey(command, key);
    }
  };

  /** The key's row after a failed Reserve; a shard that cannot tell leaves the failure as the answer. */
  const keyAfterFailure = (customerId: string, key: string, failure: unknown) =>
    repository.findIdempotency(customerId, key).catch((error: unknown) => {
      log.warn({ err: error, cause: failure }, "could not look for the gateway's key after a failed Reserve; answering the failure");
      return undefined;
    });

  return async function placeWithGatewayKey(command: PlaceOrderCommand, key: string): Promise<{ order: Order; replayed: boolean }> {
    const fingerprint = requestFingerprint(command);
    return placeUnderFreshId(command, {
      // Nothing is stored. But the repeat of a call that stored can be refused for the very stock that call
      // holds (the last units): then the key, one read away, is the answer, not the refusal.
      refused: async (error) => {
        const decision = decideGatewayKeyedFailure(await keyAfterFailure(command.customerId, key, error), fingerprint);
        if (decision.kind === 'answer-failure') throw error;
        return answerOfKey(command, key, fingerprint, decision);
      },
      write: (event) => repository.insertPlacedWithKey(event, { key, fingerprint }),
      written: async (result, reserved) => {
        const decision = decideGatewayKeyed(result, fingerprint);
        if (decision.kind === 'placed') return placed(reserved);
        await compensate.release(reserved.id); // nothing of this attempt was stored: its stock goes back
        if (decision.kind === 'draw-new-id') return ID_TAKEN;
        return answerOfKey(command, key, fingerprint, decision);
      },
    });
  };
}
