import { ORDER_EVENT_KINDS, orderEventSubject, orderEventSubjects } from './subjects';

describe('order event subjects', () => {
  it('when a kind is named, then its subject is the v1 prefix and the kind', () => {
    expect(ORDER_EVENT_KINDS.map((kind) => orderEventSubject(kind))).toEqual([
      'orders.v1.placed',
      'orders.v1.paid',
      'orders.v1.cancelled',
      'orders.v1.shipped',
      'orders.v1.expired',
    ]);
  });

  it('when a prefix is given, then subjects live under it and the wildcard covers them', () => {
    expect(orderEventSubject('paid', 'test42.orders.v1')).toBe('test42.orders.v1.paid');
    expect(orderEventSubjects('test42.orders.v1')).toBe('test42.orders.v1.>');
    expect(orderEventSubjects()).toBe('orders.v1.>');
  });

  it.each(['', 'orders.', '.orders', 'orders..v1', 'orders.*', 'orders.>', 'orders v1'])('when the prefix is "%s", then it is refused', (prefix) => {
    expect(() => orderEventSubject('placed', prefix)).toThrow(/invalid subject prefix/);
  });

  it('when an unknown kind slips past the types, then it is refused', () => {
    expect(() => orderEventSubject('refunded' as never)).toThrow(/unknown order event kind "refunded"/);
  });
});
