import type { Actor, ChangedBy } from './model';
import type { Transition } from './order-state-machine';

/** What an order's history records beside the new status: who made the change and why. */
export interface HistoryNote {
  changedBy: ChangedBy;
  reason: string;
}

const REASONS: Record<Transition, (by: ChangedBy) => string> = {
  pay: () => 'paid',
  cancel: (by) => (by.kind === 'ADMIN' ? 'cancelled by an admin' : 'cancelled by the customer'),
  ship: () => 'shipped',
  expire: () => 'payment window expired',
};

/** A placement is always the customer's own (the gateway takes the customer from the token). */
export function placementNote(customerId: string): HistoryNote {
  return { changedBy: { kind: 'CUSTOMER', id: customerId }, reason: 'placed' };
}

/** A change asked for by a customer or an admin; without an actor it is the system's (the sweeper). */
export function transitionNote(transition: Transition, actor: Actor | undefined): HistoryNote {
  const changedBy: ChangedBy = actor ? { kind: actor.admin ? 'ADMIN' : 'CUSTOMER', id: actor.customerId } : { kind: 'SYSTEM' };
  return { changedBy, reason: REASONS[transition](changedBy) };
}
