import { InvalidTransitionError, OrderExpiredError } from './errors';
import type { Order, OrderStatus } from './model';
import { anOrder, NOW as now, STATUSES } from './order.fixtures';
import { checkTransition, Transition, TRANSITIONS } from './order-state-machine';

const order = (status: OrderStatus, expiresAt?: Date): Order => anOrder(status, expiresAt && { expiresAt });

const ALLOWED: Record<Transition, OrderStatus[]> = { pay: ['RESERVED'], cancel: ['RESERVED'], ship: ['PAID'], expire: ['RESERVED'] };

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
