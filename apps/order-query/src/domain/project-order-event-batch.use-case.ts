import { decideBatch } from './batch-projection';
import type { OrderEvent, UncheckedOrderEvent } from './model';
import type { Clock, OrderViewStore } from './ports';
import { conflictError, ProjectOrderEvent } from './project-order-event.use-case';
import { changesView, ProjectionDecision, ProjectionStats } from './projection';
import { validateOrderEvent } from './validation';

export interface ProjectOrderEventBatchDeps {
  store: OrderViewStore;
  stats: ProjectionStats;
  clock: Clock;
  /** The one-event path: what a shard's share of the batch falls back to when its transaction fails. */
  projectOne: ProjectOrderEvent;
  /** Told when a share fell back (a racing consumer's insert, a deadlock, a lost connection). */
  onFallback?: (error: unknown, events: number) => void;
}

/** Per event, what one-at-a-time projection resolves to, or what it throws (InvalidEventError: poison). */
export type ProjectionResult = { decision: Awaited<ReturnType<ProjectOrderEvent>>; error?: undefined } | { decision?: undefined; error: unknown };

interface Indexed {
  index: number;
  event: OrderEvent;
}

/**
 * Projects events that arrived together: each read shard's share in ONE transaction of two round trips
 * (store.projectBatch), decided by decideBatch in arrival order, so every event gets the decision it
 * would get projected alone, after the events before it. Resolves to one result per event, in order;
 * never rejects. When a share's transaction fails, its events go through the one-event path one after
 * another (which retries races and deadlocks itself), so a failed batch loses nothing and acks nothing.
 */
export function createProjectOrderEventBatch({ store, stats, clock, projectOne, onFallback }: ProjectOrderEventBatchDeps) {
  async function projectShare(share: Indexed[], results: ProjectionResult[]): Promise<void> {
    const now = clock.now();
    const events = share.map((s) => s.event);
    let decisions: ProjectionDecision[];
    try {
      decisions = await store.projectBatch(events, (stored) => decideBatch(events, stored), now);
    } catch (error) {
      onFallback?.(error, share.length);
      for (const { index, event } of share) {
        results[index] = await projectOne(event).then(
          (decision) => ({ decision }),
          (failure: unknown) => ({ error: failure }),
        );
      }
      return;
    }
    share.forEach(({ index, event }, i) => {
      const decision = decisions[i]!;
      if (decision === 'conflict') {
        results[index] = { error: conflictError(event) };
        return;
      }
      if (changesView(decision)) stats.recordApplied(event.occurredAt, now);
      results[index] = { decision };
    });
  }

  return async function projectOrderEventBatch(candidates: UncheckedOrderEvent[]): Promise<ProjectionResult[]> {
    const results: ProjectionResult[] = new Array(candidates.length);
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

export type ProjectOrderEventBatch = ReturnType<typeof createProjectOrderEventBatch>;
