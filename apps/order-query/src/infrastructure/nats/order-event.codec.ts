import { ORDER_EVENT_KINDS } from '@orderflow/messaging';
import { orderFromProto, orderV1 } from '@orderflow/proto';
import { InvalidEventError } from '../../domain/errors';
import type { UncheckedOrderEvent } from '../../domain/model';

/** Bytes from the ORDERS stream -> an event to validate. Undecodable bytes are a poison message. */
export function decodeOrderEvent(data: Uint8Array): UncheckedOrderEvent {
  let message: orderV1.OrderEvent;
  try {
    message = orderV1.OrderEvent.decode(data);
  } catch (error) {
    throw new InvalidEventError(`not an orderflow.order.v1.OrderEvent: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { order } = message;
  return {
    eventId: message.eventId,
    kind: ORDER_EVENT_KINDS.find((kind) => message[kind] !== undefined),
    orderId: message.orderId,
    customerId: message.customerId,
    version: message.version,
    occurredAt: message.occurredAt,
    order: order && orderFromProto(order),
  };
}
