import { InvalidTransitionError, OrderExpiredError } from './errors';
import type { Order, OrderEventKind, OrderStatus, StockAction } from './model';

export interface TransitionSpec {
  from: readonly OrderStatus[];
  to: OrderStatus;
  event: OrderEventKind;
  stock: StockAction | null;
}

/**
 * The order state machine: RESERVED -> PAID -> SHIPPED, RESERVED -> CANCELLED | EXPIRED. The database
 * enforces the same table: each transition is an UPDATE whose WHERE names the allowed `from` states.
 */
export const TRANSITIONS = {
  pay: { from: ['RESERVED'], to: 'PAID', event: 'paid', stock: 'COMMIT' },
  cancel: { from: ['RESERVED'], to: 'CANCELLED', event: 'cancelled', stock: 'RELEASE' },
  ship: { from: ['PAID'], to: 'SHIPPED', event: 'shipped', stock: null },
  expire: { from: ['RESERVED'], to: 'EXPIRED', event: 'expired', stock: 'RELEASE' },
} as const satisfies Record<string, TransitionSpec>;

export type Transition = keyof typeof TRANSITIONS;

/** 'already' when the order is in the target state (a retried call), else throws unless allowed. */
export function checkTransition(order: Order, transition: Transition, now: Date): 'apply' | 'already' {
  const spec: TransitionSpec = TRANSITIONS[transition];
  if (order.status === spec.to) return 'already';
  if (!spec.from.includes(order.status)) throw new InvalidTransitionError(order.id, order.status, transition);
  if (transition === 'pay' && now.getTime() >= order.expiresAt.getTime()) throw new OrderExpiredError(order.id);
  return 'apply';
}
