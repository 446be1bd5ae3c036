import { DeadLetterEntry, formatDeadLetters } from './dead-letter.queue';

const entry = (overrides: Partial<DeadLetterEntry>): DeadLetterEntry => ({
  id: 1,
  originalSubject: 'orders.v1.placed',
  originalStream: 'ORDERS',
  originalSequence: 40,
  orderId: '7311528741191680001',
  eventType: 'placed',
  version: 1,
  deliveries: 60,
  reason: 'failed on all 60 deliveries, last: connect ECONNREFUSED',
  at: new Date('2026-12-06T11:00:00.000Z'),
  ...overrides,
});

describe('dead letter table', () => {
  it('when there are dead letters, then each is one line under a header, columns aligned, the reason last and whole', () => {
    const table = formatDeadLetters([
      entry({}),
      entry({ id: 12, orderId: undefined, version: undefined, deliveries: 1, reason: 'not an orderflow.order.v1.OrderEvent: index out of range' }),
    ]);
    expect(table.split('\n')).toEqual([
      'id  order                event   version  deliveries  when                      reason',
      '1   7311528741191680001  placed  1        60          2026-12-06T11:00:00.000Z  failed on all 60 deliveries, last: connect ECONNREFUSED',
      '12  ?                    placed  ?        1           2026-12-06T11:00:00.000Z  not an orderflow.order.v1.OrderEvent: index out of range',
    ]);
  });

  it('when there are none, then it says so', () => {
    expect(formatDeadLetters([])).toBe('no dead letters');
  });
});
