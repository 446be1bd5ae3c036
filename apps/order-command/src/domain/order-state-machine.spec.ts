import { InvalidTransitionError, OrderExpiredError } from './errors';
import type { Order, OrderStatus } from './model';
import { checkTransition, Transition, TRANSITIONS } from './order-state-machine';

const now = new Date('2026-01-01T00:00:00Z');
const order = (status: OrderStatus, expiresAt = new Date('2026-01-01T00:15:00Z')): Order => ({
  id: '1',
  customerId: 'c',
  status,
  items: [],
  totalMinor: 0,
  address: 'a',
  paymentMethod: 'card',
  version: 1,
  createdAt: now,
  updatedAt: now,
  expiresAt,
});

const ALLOWED: Record<Transition, OrderStatus[]> = { pay: ['RESERVED'], cancel: ['RESERVED'], ship: ['PAID'], expire: ['RESERVED'] };
const STATUSES: OrderStatus[] = ['PENDING', 'RESERVED', 'PAID', 'SHIPPED', 'CANCELLED', 'EXPIRED', 'FAILED'];

describe('order state machine', () => {
  for (const transition of Object.keys(TRANSITIONS) as Transition[]) {
    for (const status of STATUSES) {
      const target = TRANSITIONS[transition].to;
      const expected = status === target ? 'already' : ALLOWED[transition].includes(status) ? 'apply' : 'refused';
      it(`when ${transition} meets a ${status} order, then it is ${expected}`, () => {
        const run = () => checkTransition(order(status), transition, now);
        if (expected === 'refused') expect(run).toThrow(InvalidTransitionError);
        else expect(run()).toBe(expected);
      });
    }
  }

  it('when a RESERVED order is paid at or after its expiry, then it is refused as expired', () => {
    expect(() => checkTransition(order('RESERVED', now), 'pay', now)).toThrow(OrderExpiredError);
  });
});
