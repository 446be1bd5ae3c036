import { orderEventSubject } from '@orderflow/messaging';
import { orderToProto, orderV1 } from '@orderflow/proto';
import type { OrderEventRecord } from '../domain/model';

/** An event as the outbox stores it: the NATS subject and the protobuf-encoded OrderEvent. */
export function encodeOrderEvent(event: OrderEventRecord, subjectPrefix: string): { subject: string; payload: Buffer } {
  const message: orderV1.OrderEvent = {
    eventId: event.eventId,
    orderId: event.order.id,
    customerId: event.order.customerId,
    version: event.order.version,
    occurredAt: event.occurredAt,
    order: orderToProto(event.order),
    [event.kind]: event.kind === 'cancelled' ? { cancelledBy: event.changedBy.kind === 'ADMIN' ? 'admin' : 'customer' } : {},
  };
  return { subject: orderEventSubject(event.kind, subjectPrefix), payload: Buffer.from(orderV1.OrderEvent.encode(message).finish()) };
}
