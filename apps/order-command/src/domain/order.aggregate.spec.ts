import { InvalidTransitionError, OrderExpiredError } from './errors';
import type { Order, OrderStatus } from './model';
import { cancel, expire, newOrder, OrderChange, pay, place, ship } from './order.aggregate';
import { admin, anOrder, customer, NOW as now, STATUSES } from './order.fixtures';
import { TRANSITIONS } from './order-state-machine';

/** The fixture order with one line, so events are seen to carry the items and the total. */
const order = (status: OrderStatus, expiresAt?: Date): Order =>
  anOrder(status, { items: [{ productId: 'p', quantity: 2, unitPriceMinor: 150 }], totalMinor: 300, ...(expiresAt && { expiresAt }) });

/** Each named change, who makes it, the status it leaves from, and the history note its event carries. */
const CHANGES = [
  { name: 'pay', change: (o: Order) => pay(o, customer, now), from: 'RESERVED', to: 'PAID', changedBy: { kind: 'CUSTOMER', id: 'c' }, reason: 'paid' },
  {
    name: 'cancel',
    change: (o: Order) => cancel(o, customer, now),
    from: 'RESERVED',
    to: 'CANCELLED',
    changedBy: { kind: 'CUSTOMER', id: 'c' },
    reason: 'cancelled by the customer',
  },
  {
    name: 'cancel',
    change: (o: Order) => cancel(o, admin, now),
    from: 'RESERVED',
    to: 'CANCELLED',
    changedBy: { kind: 'ADMIN', id: 'ops' },
    reason: 'cancelled by an admin',
  },
  { name: 'ship', change: (o: Order) => ship(o, admin, now), from: 'PAID', to: 'SHIPPED', changedBy: { kind: 'ADMIN', id: 'ops' }, reason: 'shipped' },
  { name: 'expire', change: (o: Order) => expire(o, now), from: 'RESERVED', to: 'EXPIRED', changedBy: { kind: 'SYSTEM' }, reason: 'payment window expired' },
] as const;

const applied = (change: OrderChange) => {
  if (change.kind !== 'apply') throw new Error(`expected a change to apply, got ${change.kind}`);
  return change;
};

describe('the order aggregate', () => {
  describe('a status change', () => {
    for (const { name, change, from, to, changedBy, reason } of CHANGES) {
      const who = changedBy.kind.toLowerCase();
      it(`when ${name} (by the ${who}) meets a ${from} order, then it is the table's change, with a past-tense event noting who and why`, () => {
        const decided = applied(change(order(from)));
        const transition = name as keyof typeof TRANSITIONS;
        expect(decided.transition).toBe(transition);
        expect(decided.spec).toBe(TRANSITIONS[transition]);
        expect(decided.spec.to).toBe(to);
        const after = { ...order(from), status: to, version: 2 };
        const event = decided.event(after);
        expect(event).toEqual({ eventId: expect.any(String), kind: TRANSITIONS[transition].event, order: after, occurredAt: now, changedBy, reason });
        expect(decided.event(after).eventId).not.toBe(event.eventId); // a fresh id per event built
      });

      it(`when ${name} (by the ${who}) meets an order already ${to}, then there is nothing to store and the order comes back as it is (a retried call)`, () => {
        const current = order(to);
        expect(change(current)).toEqual({ kind: 'already', order: current });
      });

      for (const status of STATUSES.filter((s) => s !== from && s !== to)) {
        it(`when ${name} (by the ${who}) meets a ${status} order, then it is refused as an invalid transition`, () => {
          expect(() => change(order(status))).toThrow(InvalidTransitionError);
        });
      }
    }

    it('when a RESERVED order is paid at or after its expiry, then it is refused as expired', () => {
      expect(() => pay(order('RESERVED', now), customer, now)).toThrow(OrderExpiredError);
      expect(() => pay(order('RESERVED', new Date(now.getTime() - 1)), customer, now)).toThrow(OrderExpiredError);
    });

    it('when a RESERVED order is paid a millisecond before its expiry, then it is paid', () => {
      expect(pay(order('RESERVED', new Date(now.getTime() + 1)), customer, now).kind).toBe('apply');
    });

    it('when an expired order is already PAID, then paying again still comes back as it is', () => {
      expect(pay(order('PAID', now), customer, now).kind).toBe('already');
    });
  });

  describe('a placement', () => {
    const command = { customerId: 'c', items: [{ productId: 'p', quantity: 2, unitPriceMinor: 150 }], address: 'a', paymentMethod: 'card' };

    it('when a new order is made, then it is PENDING at version 0, totals its items, and expires after the payment window', () => {
      expect(newOrder(command, '42', now, 60_000)).toEqual({
        id: '42',
        customerId: 'c',
        status: 'PENDING',
        items: command.items,
        totalMinor: 300,
        address: 'a',
        paymentMethod: 'card',
        version: 0,
        createdAt: now,
        updatedAt: now,
        expiresAt: new Date('2026-01-01T00:01:00Z'),
      });
    });

    it('when a PENDING order is placed, then it is RESERVED at version 1 as of the stock being held, with an OrderPlaced event by its customer', () => {
      const held = new Date('2026-01-01T00:00:02Z');
      const { order: placed, event } = place(newOrder(command, '42', now, 60_000), held);
      expect(placed).toMatchObject({ status: 'RESERVED', version: 1, createdAt: now, updatedAt: held });
      const changedBy = { kind: 'CUSTOMER', id: 'c' };
      expect(event).toEqual({ eventId: expect.any(String), kind: 'placed', order: placed, occurredAt: held, changedBy, reason: 'placed' });
    });

    for (const status of STATUSES.filter((s) => s !== 'PENDING')) {
      it(`when a ${status} order is placed, then it is refused as an invalid transition`, () => {
        expect(() => place(order(status), now)).toThrow(InvalidTransitionError);
      });
    }
  });
});
