// An order in plain terms, as order-command and order-query both hold it (status by name, every time set), and its
// mapping to and from the generated orderflow.order.v1.Order: the one place that knows the status enum.
import { Order, OrderStatus } from './generated/orderflow/order/v1/order';

/** The statuses an order has outside order-command (its internal PENDING and FAILED never leave it). */
export type OrderStatusName = 'RESERVED' | 'PAID' | 'SHIPPED' | 'CANCELLED' | 'EXPIRED';

/**
 * The contract's Order with its status by name and its times set. `S` is the statuses a service knows:
 * order-command's aggregate has two more than the contract carries.
 */
export type OrderSnapshot<S extends string = OrderStatusName> = Omit<Order, 'status' | 'createdAt' | 'updatedAt' | 'expiresAt'> & {
  status: S;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
};

/** An Order as decoded from the wire, before validation: the status may be unknown and any time missing. */
export type UncheckedOrderSnapshot = Omit<Order, 'status'> & { status: OrderStatusName | undefined };

const STATUS_TO_PROTO: Record<OrderStatusName, OrderStatus> = {
  RESERVED: OrderStatus.ORDER_STATUS_RESERVED,
  PAID: OrderStatus.ORDER_STATUS_PAID,
  SHIPPED: OrderStatus.ORDER_STATUS_SHIPPED,
  CANCELLED: OrderStatus.ORDER_STATUS_CANCELLED,
  EXPIRED: OrderStatus.ORDER_STATUS_EXPIRED,
};

const STATUS_FROM_PROTO = new Map(Object.entries(STATUS_TO_PROTO).map(([name, status]) => [status, name as OrderStatusName]));

/** A status the contract does not carry (order-command's PENDING and FAILED) is UNSPECIFIED. */
export function orderStatusToProto(status: string): OrderStatus {
  return STATUS_TO_PROTO[status as OrderStatusName] ?? OrderStatus.ORDER_STATUS_UNSPECIFIED;
}

/** undefined for UNSPECIFIED and for values this code does not know. */
export function orderStatusFromProto(status: OrderStatus): OrderStatusName | undefined {
  return STATUS_FROM_PROTO.get(status);
}

export function orderToProto(order: OrderSnapshot<string>): Order {
  return { ...fieldsOf(order), status: orderStatusToProto(order.status) };
}

export function orderFromProto(order: Order): UncheckedOrderSnapshot {
  return { ...fieldsOf(order), status: orderStatusFromProto(order.status) };
}

/** Every field but the status, copied (items too), so nothing else an object carries goes along. */
function fieldsOf(order: Omit<Order, 'status'>): Omit<Order, 'status'> {
  return {
    id: order.id,
    customerId: order.customerId,
    items: order.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPriceMinor: i.unitPriceMinor })),
    totalMinor: order.totalMinor,
    address: order.address,
    paymentMethod: order.paymentMethod,
    version: order.version,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    expiresAt: order.expiresAt,
  };
}
