import { orderV1 } from '@orderflow/proto';
import { InvalidEventError } from '../../domain/errors';
import { ORDER_EVENT_KINDS, UncheckedOrderEvent } from '../../domain/model';
import { statusFromProto } from '../../entry-points/order-proto.mapper';

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
    order: order && {
      id: order.id,
      customerId: order.customerId,
      status: statusFromProto(order.status),
      items: order.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPriceMinor: i.unitPriceMinor })),
      totalMinor: order.totalMinor,
      address: order.address,
      paymentMethod: order.paymentMethod,
      version: order.version,
      createdAt: order.createdAt,
      updatedAt: order.updatedAt,
      expiresAt: order.expiresAt,
    },
  };
}
