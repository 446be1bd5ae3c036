import { bucketForCustomer, OrderIdGenerator } from '@orderflow/sharding';
import { InvalidArgumentError, InvalidEventError } from './errors';
import type { UncheckedOrderEvent } from './model';
import { validateGetOrder, validateListOrders, validateOrderEvent } from './validation';

const ids = new OrderIdGenerator();

function event(overrides: Partial<UncheckedOrderEvent> = {}, customerId = 'alice'): UncheckedOrderEvent {
  const orderId = ids.next(bucketForCustomer(customerId));
  const now = new Date();
  return {
    eventId: 'e-1',
    kind: 'placed',
    orderId,
    customerId,
    version: 1,
    occurredAt: now,
    order: {
      id: orderId,
      customerId,
      status: 'RESERVED',
      items: [{ productId: 'p-1', quantity: 2, unitPriceMinor: 150 }],
      totalMinor: 300,
      address: '1 Main St',
      paymentMethod: 'card',
      version: 1,
      createdAt: now,
      updatedAt: now,
      expiresAt: now,
    },
    ...overrides,
  };
}

describe('order event validation', () => {
  it('when an event keeps the contract, then it passes unchanged', () => {
    const valid = event();
    expect(validateOrderEvent(valid)).toBe(valid);
  });

  it.each<[string, (e: UncheckedOrderEvent) => UncheckedOrderEvent, string]>([
    ['the order is missing', (e) => ({ ...e, order: undefined }), 'the order is missing'],
    ['the order id is not an id', (e) => ({ ...e, orderId: 'not-an-id' }), 'is not an order id'],
    ['the version is 0', (e) => ({ ...e, version: 0 }), 'version must be 1 or more'],
    ['the kind is missing', (e) => ({ ...e, kind: undefined }), 'kind is missing'],
    ['the order is another one', (e) => ({ ...e, order: { ...e.order!, id: '12345' } }), 'differs'],
    ['the order status is unknown', (e) => ({ ...e, order: { ...e.order!, status: undefined } }), 'status'],
    ['an item has no quantity', (e) => ({ ...e, order: { ...e.order!, items: [{ productId: 'p', quantity: 0, unitPriceMinor: 1 }] } }), 'items[0]'],
    ['occurred_at is missing', (e) => ({ ...e, occurredAt: undefined }), 'occurred_at'],
  ])('when %s, then it is a poison event', (_, change, message) => {
    expect(() => validateOrderEvent(change(event()))).toThrow(InvalidEventError);
    expect(() => validateOrderEvent(change(event()))).toThrow(message);
  });

  it("when the order id does not carry the customer's bucket, then it is a poison event", () => {
    const alices = event();
    let other = 'bob';
    for (let i = 0; bucketForCustomer(other) === bucketForCustomer('alice'); i++) other = `bob-${i}`;
    const moved = { ...alices, customerId: other, order: { ...alices.order!, customerId: other } };
    expect(() => validateOrderEvent(moved)).toThrow("does not carry the customer's bucket");
  });
});

describe('query validation', () => {
  const actor = { customerId: 'alice', admin: false };

  it.each([
    ['a malformed order id', { orderId: '12abc', actor, minVersion: 0, waitMs: 0 }, 'order_id'],
    ['a negative min_version', { orderId: '1', actor, minVersion: -1, waitMs: 0 }, 'min_version'],
    ['a negative wait', { orderId: '1', actor, minVersion: 1, waitMs: -5 }, 'wait_ms'],
    ['no actor', { orderId: '1', actor: undefined, minVersion: 0, waitMs: 0 }, 'actor.customer_id'],
  ])('when GetOrder has %s, then it is an invalid argument naming the field', (_, input, field) => {
    expect(() => validateGetOrder(input)).toThrow(InvalidArgumentError);
    expect(() => validateGetOrder(input)).toThrow(field);
  });

  it('when ListOrders asks for 0, 1 or 100 orders, then the page size is 20, 1 or 100', () => {
    expect([0, 1, 100].map((pageSize) => validateListOrders({ customerId: 'alice', pageSize }))).toEqual([20, 1, 100]);
  });

  it.each([
    ['101 orders', { customerId: 'alice', pageSize: 101 }, 'page_size'],
    ['-1 orders', { customerId: 'alice', pageSize: -1 }, 'page_size'],
    ['no customer', { customerId: '', pageSize: 10 }, 'customer_id'],
    ['a customer id with spaces', { customerId: 'al ice', pageSize: 10 }, 'customer_id'],
  ])('when ListOrders asks for %s, then it is an invalid argument naming the field', (_, input, field) => {
    expect(() => validateListOrders(input)).toThrow(field);
  });
});
