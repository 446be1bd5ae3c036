import { InvalidEventError, ReadShardMovingError } from './errors';
import { redeliveryDelay, settle, SettlementPolicy } from './settlement';

const policy: SettlementPolicy = { maxDeliver: 5, redeliveryDelayMs: 200, redeliveryDelayMaxMs: 5_000 };
const event = { orderId: '123', version: 3 };

describe('redelivery delay', () => {
  it('when deliveries repeat, then the delay doubles from the base up to the ceiling', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => redeliveryDelay(n, 200, 5_000))).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });
});

describe('settling a message', () => {
  it.each(['insert', 'apply', 'duplicate'] as const)('when the event was decided %s, then it is acked, on any delivery', (decision) => {
    expect(settle({ decision }, { count: 1, event }, policy)).toEqual({ action: 'ack' });
    expect(settle({ decision }, { count: 5, event }, policy)).toEqual({ action: 'ack' });
  });

  it('when the event is out of order before its last delivery, then it is NAKed with the delay of its delivery and no failure', () => {
    expect(settle({ decision: 'out-of-order' }, { count: 1, event }, policy)).toEqual({ action: 'nak', delayMs: 200 });
    expect(settle({ decision: 'out-of-order' }, { count: 4, event }, policy)).toEqual({ action: 'nak', delayMs: 1_600 });
  });

  it('when the event is still out of order on its last delivery, then it is dead-lettered naming its version and order', () => {
    expect(settle({ decision: 'out-of-order' }, { count: 5, event }, policy)).toEqual({
      action: 'dead-letter',
      reason: 'version 3 of order 123 never became the next version in 5 deliveries',
      delayMs: 3_200,
    });
  });

  it('when the message is poison, then it is dead-lettered with its error on its first delivery', () => {
    const poison = new InvalidEventError('not an orderflow.order.v1.OrderEvent: index out of range');
    expect(settle({ error: poison }, { count: 1 }, policy)).toEqual({ action: 'dead-letter', reason: poison.message, delayMs: 200 });
  });

  it('when applying failed before the last delivery, then it is NAKed with the delay and the failure named', () => {
    const refused = new Error('connect ECONNREFUSED');
    expect(settle({ error: refused }, { count: 2, event }, policy)).toEqual({ action: 'nak', delayMs: 400, failure: 'connect ECONNREFUSED' });
    expect(settle({ error: 'odd' }, { count: 1, event }, policy)).toEqual({ action: 'nak', delayMs: 200, failure: 'odd' });
  });

  it('when applying failed on the last delivery (or after it), then it is dead-lettered with the last failure', () => {
    const error = new Error('connect ECONNREFUSED');
    const reason = (n: number) => `failed on all ${n} deliveries, last: connect ECONNREFUSED`;
    expect(settle({ error }, { count: 5, event }, policy)).toEqual({ action: 'dead-letter', reason: reason(5), delayMs: 3_200 });
    expect(settle({ error }, { count: 6, event }, policy)).toMatchObject({ action: 'dead-letter', reason: reason(6) });
  });

  it('when the read shard stayed fenced by a bucket move, then the event is NAKed with the growing delay as waiting for the switch, on every delivery but the last', () => {
    const moving = new ReadShardMovingError(7, 5_000);
    for (const count of [1, 2, 4]) {
      expect(settle({ error: moving }, { count, event }, policy)).toEqual({
        action: 'nak',
        delayMs: redeliveryDelay(count, 200, 5_000),
        failure: moving.message,
        moving: true,
      });
    }
    // Never dead-lettered for it while JetStream would deliver it again; a NAK on the last delivery would drop it, so it is kept.
    expect(settle({ error: moving }, { count: 5, event }, policy)).toMatchObject({ action: 'dead-letter' });
  });
});
