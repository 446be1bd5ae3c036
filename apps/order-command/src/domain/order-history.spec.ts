import { placementNote, transitionNote } from './order-history';

describe('order history notes (who and why)', () => {
  it('when a customer places an order, then the note names that customer and "placed"', () => {
    expect(placementNote('alice')).toEqual({ changedBy: { kind: 'CUSTOMER', id: 'alice' }, reason: 'placed' });
  });

  it('when a customer or an admin changes an order, then the note names them by kind and id, and the cancel reason says which', () => {
    expect(transitionNote('pay', { customerId: 'alice', admin: false })).toEqual({ changedBy: { kind: 'CUSTOMER', id: 'alice' }, reason: 'paid' });
    expect(transitionNote('cancel', { customerId: 'alice', admin: false })).toEqual({
      changedBy: { kind: 'CUSTOMER', id: 'alice' },
      reason: 'cancelled by the customer',
    });
    expect(transitionNote('cancel', { customerId: 'ops', admin: true })).toEqual({ changedBy: { kind: 'ADMIN', id: 'ops' }, reason: 'cancelled by an admin' });
    expect(transitionNote('ship', { customerId: 'ops', admin: true })).toEqual({ changedBy: { kind: 'ADMIN', id: 'ops' }, reason: 'shipped' });
  });

  it('when no actor asked (the sweeper expires an order), then the note is the system with no id', () => {
    expect(transitionNote('expire', undefined)).toEqual({ changedBy: { kind: 'SYSTEM' }, reason: 'payment window expired' });
  });
});
