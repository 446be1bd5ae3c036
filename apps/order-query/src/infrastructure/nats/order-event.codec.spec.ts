import { orderV1 } from '@orderflow/proto';
import { InvalidEventError } from '../../domain/errors';
import { decodeOrderEvent } from './order-event.codec';

describe('order event codec', () => {
  it('when an OrderEvent is decoded, then kind, ids, version and the order come through', () => {
    const now = new Date('2026-05-01T10:00:00.123Z');
    const bytes = orderV1.OrderEvent.encode(
      orderV1.OrderEvent.fromPartial({
        eventId: 'e-1',
        orderId: '9223372036854775807',
        customerId: 'alice',
        version: 2,
        occurredAt: now,
        paid: {},
        order: { id: '9223372036854775807', customerId: 'alice', status: orderV1.OrderStatus.ORDER_STATUS_PAID, version: 2, totalMinor: 5, createdAt: now },
      }),
    ).finish();
    expect(decodeOrderEvent(bytes)).toMatchObject({
      eventId: 'e-1',
      kind: 'paid',
      orderId: '9223372036854775807',
      version: 2,
      occurredAt: now,
      order: { id: '9223372036854775807', status: 'PAID', totalMinor: 5, createdAt: now, updatedAt: undefined },
    });
  });

  it('when the bytes are not protobuf, then it is a poison event', () => {
    expect(() => decodeOrderEvent(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow(InvalidEventError);
  });
});
