/**
 * The projection rule. An event applies only when it is the next version of its order, so duplicates
 * and redeliveries change nothing (also across restarts: the version is stored with the view), and an
 * event that arrives before its predecessor waits for it.
 */
export type ProjectionDecision =
  /** Version 1 of an order the view does not hold yet: insert the view and the listing row. */
  | 'insert'
  /** The next version: update the view and the listing row. */
  | 'apply'
  /** This version (or a later one) is already applied: acknowledge, change nothing. */
  | 'duplicate'
  /** An earlier version is still missing: redeliver later. */
  | 'out-of-order'
  /** The view holds this order for another customer: the event breaks the contract. */
  | 'conflict';

export interface ProjectedState {
  version: number;
  customerId: string;
}

export function decideProjection(current: ProjectedState | undefined, event: ProjectedState): ProjectionDecision {
  if (!current) return event.version === 1 ? 'insert' : 'out-of-order';
  if (current.customerId !== event.customerId) return 'conflict';
  if (event.version <= current.version) return 'duplicate';
  return event.version === current.version + 1 ? 'apply' : 'out-of-order';
}

/** Whether the state changed, i.e. the event counts as applied. */
export const changesView = (decision: ProjectionDecision): boolean => decision === 'insert' || decision === 'apply';

/** What this process has done since it started; read by GetProjectionLag. */
export class ProjectionStats {
  eventsApplied = 0;
  eventsDeadLettered = 0;
  lastAppliedAt: Date | undefined;
  /** When the most recently applied event happened on the command side. */
  lastAppliedOccurredAt: Date | undefined;

  recordApplied(occurredAt: Date, at: Date): void {
    this.eventsApplied++;
    this.lastAppliedAt = at;
    if (!this.lastAppliedOccurredAt || occurredAt > this.lastAppliedOccurredAt) this.lastAppliedOccurredAt = occurredAt;
  }

  recordDeadLettered(): void {
    this.eventsDeadLettered++;
  }
}
