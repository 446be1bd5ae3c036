import { InvalidEventError, ReadShardMovingError } from './errors';
import type { ProjectionDecision } from './projection';

/** What applying one message came to: the projection's decision, or why it failed. */
export type ApplyOutcome = { decision: Exclude<ProjectionDecision, 'conflict'>; error?: undefined } | { decision?: undefined; error: unknown };

/** The consumer's redelivery settings. */
export interface SettlementPolicy {
  /** The consumer's max_deliver: the delivery with this count is the last one JetStream makes. */
  maxDeliver: number;
  redeliveryDelayMs: number;
  redeliveryDelayMaxMs: number;
}

/** One delivery of a message: how many times JetStream has delivered it, and the event it held (if it decoded). */
export interface Delivery {
  count: number;
  event?: { orderId: string; version: number };
}

/**
 * How a message is settled. Every outcome ends in one of these. 'nak' carries the failure's message when
 * the event failed (not when it merely waits for its predecessor); 'dead-letter' carries the NAK delay to
 * use if the dead letter cannot be stored.
 */
export type Settlement =
  | { action: 'ack' }
  /** `moving`: the event waits for a bucket move's switch (not a failure of the event or of a server). */
  | { action: 'nak'; delayMs: number; failure?: string; moving?: true }
  | { action: 'dead-letter'; reason: string; delayMs: number };

/** NAK delay for the n-th delivery (1-based): base, 2 x base, 4 x base, ... up to max. */
export function redeliveryDelay(deliveryCount: number, baseMs: number, maxMs: number): number {
  const exponent = Math.min(Math.max(deliveryCount - 1, 0), 30);
  return Math.min(maxMs, baseMs * 2 ** exponent);
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Applied, or already applied -> ack. An earlier version missing -> NAK with a growing delay, so it comes
 * back after its predecessor. A poison message (InvalidEventError: undecodable, or breaking the event
 * contract) -> dead letter. Its read shard being switched by a bucket move (ReadShardMovingError) -> NAK
 * with the growing delay: the event is fine, it waits for the switch. Any other failure (a shard down) ->
 * NAK with the growing delay. On the last delivery JetStream will make, what would be NAKed is
 * dead-lettered instead, so it is kept rather than silently dropped (a NAK then would be the end of it).
 */
export function settle(outcome: ApplyOutcome, delivery: Delivery, policy: SettlementPolicy): Settlement {
  const lastDelivery = delivery.count >= policy.maxDeliver;
  const delayMs = redeliveryDelay(delivery.count, policy.redeliveryDelayMs, policy.redeliveryDelayMaxMs);
  if (outcome.decision) {
    if (outcome.decision !== 'out-of-order') return { action: 'ack' };
    if (!lastDelivery) return { action: 'nak', delayMs };
    const { event, count } = delivery;
    const reason = `version ${event?.version} of order ${event?.orderId} never became the next version in ${count} deliveries`;
    return { action: 'dead-letter', reason, delayMs };
  }
  const { error } = outcome;
  if (error instanceof InvalidEventError) return { action: 'dead-letter', reason: error.message, delayMs };
  if (lastDelivery) return { action: 'dead-letter', reason: `failed on all ${delivery.count} deliveries, last: ${messageOf(error)}`, delayMs };
  if (error instanceof ReadShardMovingError) return { action: 'nak', delayMs, failure: messageOf(error), moving: true };
  return { action: 'nak', delayMs, failure: messageOf(error) };
}
