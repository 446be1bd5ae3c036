import { randomUUID } from 'node:crypto';
import { InvalidTransitionError } from './errors';
import type { Actor, Order, OrderEventRecord, PlaceOrderCommand } from './model';
import { placementNote, transitionNote } from './order-history';
import { checkTransition, Transition, TRANSITIONS, type TransitionSpec } from './order-state-machine';
import { orderTotal } from './validation';

/*
 * The order aggregate: an order changes only through the functions below. Each guards its change (the
 * state machine's table for the status changes) and returns the event it records; the repository
 * stores the change and its event in one transaction, and its guarded UPDATE applies the same table,
 * so a concurrent change cannot slip past. PENDING -> FAILED (a placement given up) is the
 * repository's own guarded write (`failPlacement`): it records no event.
 */

/** A new order as the command asks for it: PENDING (a placement in progress) until its stock is held. */
export function newOrder(command: PlaceOrderCommand, id: string, now: Date, paymentWindowMs: number): Order {
  return {
    id,
    customerId: command.customerId,
    status: 'PENDING',
    items: command.items,
    totalMinor: orderTotal(command.items),
    address: command.address,
    paymentMethod: command.paymentMethod,
    version: 0,
    createdAt: now,
    updatedAt: now,
    expiresAt: new Date(now.getTime() + paymentWindowMs),
  };
}

/** PENDING -> RESERVED as of `now`: the event's time is when the order took its stock, not when the request arrived. */
export function place(order: Order, now: Date): { order: Order; event: OrderEventRecord } {
  if (order.status !== 'PENDING') throw new InvalidTransitionError(order.id, order.status, 'place');
  const placed: Order = { ...order, status: 'RESERVED', version: 1, updatedAt: now };
  return { order: placed, event: { eventId: randomUUID(), kind: 'placed', order: placed, occurredAt: now, ...placementNote(order.customerId) } };
}

/**
 * What a status change decided: nothing to store (the order is already in the target state: a retried
 * call), or the change for the repository to apply (`spec`, as the state machine's table has it) and
 * its event, built from the order as the change left it (its version is the database's).
 */
export type OrderChange =
  { kind: 'already'; order: Order } | { kind: 'apply'; transition: Transition; spec: TransitionSpec; event: (after: Order) => OrderEventRecord };

/** RESERVED -> PAID before `expiresAt` (OrderExpiredError at or after it); inventory is owed a COMMIT. */
export const pay = (order: Order, actor: Actor, now: Date): OrderChange => decide(order, 'pay', actor, now);

/** RESERVED -> CANCELLED, by the customer or an admin; inventory is owed a RELEASE. */
export const cancel = (order: Order, actor: Actor, now: Date): OrderChange => decide(order, 'cancel', actor, now);

/** PAID -> SHIPPED (who may ship is the use case's rule). */
export const ship = (order: Order, actor: Actor, now: Date): OrderChange => decide(order, 'ship', actor, now);

/** RESERVED -> EXPIRED, the system's own change (the sweeper); inventory is owed a RELEASE. */
export const expire = (order: Order, now: Date): OrderChange => decide(order, 'expire', undefined, now);

/** InvalidTransitionError (or OrderExpiredError) unless the table allows the change. */
function decide(order: Order, transition: Transition, actor: Actor | undefined, now: Date): OrderChange {
  if (checkTransition(order, transition, now) === 'already') return { kind: 'already', order };
  const spec: TransitionSpec = TRANSITIONS[transition];
  const note = transitionNote(transition, actor);
  const event = (after: Order): OrderEventRecord => ({ eventId: randomUUID(), kind: spec.event, order: after, occurredAt: now, ...note });
  return { kind: 'apply', transition, spec, event };
}
