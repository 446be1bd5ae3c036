import { decodeOrderId } from '@orderflow/sharding';
import { decideBatch } from './batch-projection';
import { InvalidEventError, ReadShardMovingError } from './errors';
import type { OrderEvent, UncheckedOrderEvent } from './model';
import type { Clock, OrderViewStore } from './ports';
import { changesView, ProjectionStats } from './projection';
import type { ApplyOutcome } from './settlement';
import { validateOrderEvent } from './validation';

/** Runs of an event's transaction projected alone: a lost insert race or a deadlock runs it again. */
export const ALONE_ATTEMPTS = 3;

export interface ProjectOrderEventsDeps {
  store: OrderViewStore;
  stats: ProjectionStats;
  clock: Clock;
  /** Told when a shard's share of several events failed together and its events are projected alone. */
  onFallback?: (error: unknown, events: number) => void;
}

/** An event whose order the view holds for another customer: it breaks the contract (a poison message). */
export const conflictError = (event: OrderEvent) => new InvalidEventError(`order ${event.orderId} is projected for another customer than ${event.customerId}`);

interface Indexed {
  index: number;
  event: OrderEvent;
}

/**
 * Projects events that arrived together (a single event is a batch of one). Each is validated; each
 * read shard's share then goes in ONE transaction (store.project: usually one round trip), decided by
 * decideBatch in arrival order, so every event gets the decision it would get projected alone, after
 * the events before it. When a share of several events fails, each of its events is projected alone,
 * one after another, with its own outcome: a failed share loses nothing and acks nothing. Resolves to
 * one outcome per event, in order (InvalidEventError: a poison message; ReadShardMovingError: its bucket's
 * read shard is being switched by a move, and the share's other events of that bucket are not tried again;
 * any other error: transient); never rejects.
 */
export function createProjectOrderEvents({ store, stats, clock, onFallback }: ProjectOrderEventsDeps) {
  /** One transaction for the share; rejects when it fails. */
  async function projectTogether(share: Indexed[], attempts: number): Promise<ApplyOutcome[]> {
    const now = clock.now();
    const events = share.map((s) => s.event);
    const decisions = await store.project(events, (stored) => decideBatch(events, stored), now, attempts);
    return events.map((event, i): ApplyOutcome => {
      const decision = decisions[i]!;
      if (decision === 'conflict') return { error: conflictError(event) };
      if (changesView(decision)) stats.recordApplied(event.occurredAt, now);
      return { decision };
    });
  }

  async function projectShare(share: Indexed[], results: ApplyOutcome[]): Promise<void> {
    // Buckets whose read shard is being switched (a move): each waited once already; their other events wait for redelivery.
    const moving = new Map<number, ReadShardMovingError>();
    if (share.length > 1) {
      try {
        const together = await projectTogether(share, 1);
        share.forEach(({ index }, i) => (results[index] = together[i]!));
        return;
      } catch (error) {
        if (error instanceof ReadShardMovingError) moving.set(error.bucket, error);
        onFallback?.(error, share.length);
      }
    }
    for (const indexed of share) {
      const waited = moving.get(decodeOrderId(indexed.event.orderId).bucket);
      if (waited) {
        results[indexed.index] = { error: waited };
        continue;
      }
      results[indexed.index] = await projectTogether([indexed], ALONE_ATTEMPTS).then(
        ([result]) => result!,
        (error: unknown) => {
          if (error instanceof ReadShardMovingError) moving.set(error.bucket, error);
          return { error };
        },
      );
    }
  }

  return async function projectOrderEvents(candidates: UncheckedOrderEvent[]): Promise<ApplyOutcome[]> {
    const results: ApplyOutcome[] = new Array(candidates.length);
    const shares = new Map<number, Indexed[]>();
    candidates.forEach((candidate, index) => {
      let event: OrderEvent;
      try {
        event = validateOrderEvent(candidate);
      } catch (error) {
        results[index] = { error };
        return;
      }
      const shard = store.shardOf(event.orderId);
      const share = shares.get(shard);
      if (share) share.push({ index, event });
      else shares.set(shard, [{ index, event }]);
    });
    await Promise.all([...shares.values()].map((share) => projectShare(share, results)));
    return results;
  };
}

export type ProjectOrderEvents = ReturnType<typeof createProjectOrderEvents>;
