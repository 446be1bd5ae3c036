import { InvalidEventError } from './errors';
import type { OrderEvent, UncheckedOrderEvent } from './model';
import type { Clock, OrderViewStore } from './ports';
import { changesView, decideProjection, ProjectionDecision, ProjectionStats } from './projection';
import { validateOrderEvent } from './validation';

export interface ProjectOrderEventDeps {
  store: OrderViewStore;
  stats: ProjectionStats;
  clock: Clock;
}

/** An event whose order the view holds for another customer: it breaks the contract (a poison message). */
export const conflictError = (event: OrderEvent) => new InvalidEventError(`order ${event.orderId} is projected for another customer than ${event.customerId}`);

/**
 * Applies one event to the read side if it is the next version of its order. Throws InvalidEventError
 * for an event that can never apply (a poison message); any other error is transient.
 */
export function createProjectOrderEvent({ store, stats, clock }: ProjectOrderEventDeps) {
  return async function projectOrderEvent(candidate: UncheckedOrderEvent): Promise<Exclude<ProjectionDecision, 'conflict'>> {
    const event = validateOrderEvent(candidate);
    const now = clock.now();
    const decision = await store.project(event, (current) => decideProjection(current, event), now);
    if (decision === 'conflict') throw conflictError(event);
    if (changesView(decision)) stats.recordApplied(event.occurredAt, now);
    return decision;
  };
}

export type ProjectOrderEvent = ReturnType<typeof createProjectOrderEvent>;
