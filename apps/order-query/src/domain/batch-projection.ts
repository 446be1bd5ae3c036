import { changesView, decideProjection, ProjectedState, ProjectionDecision } from './projection';

/** What the batch rule needs of an event. */
export interface BatchedEvent extends ProjectedState {
  orderId: string;
}

/**
 * The projection rule over a batch: each event is decided, in arrival order, against what its order
 * holds after the events before it in the batch. So v1, v2 and v3 of one order all apply in one
 * batch, a repeat of an applied version is a duplicate, and a version whose predecessor is neither
 * stored nor earlier in the batch is out of order: the decisions one-at-a-time projection makes.
 */
export function decideBatch(events: readonly BatchedEvent[], stored: ReadonlyMap<string, ProjectedState>): ProjectionDecision[] {
  const state = new Map(stored);
  return events.map((event) => {
    const decision = decideProjection(state.get(event.orderId), event);
    if (changesView(decision)) state.set(event.orderId, { version: event.version, customerId: event.customerId });
    return decision;
  });
}
