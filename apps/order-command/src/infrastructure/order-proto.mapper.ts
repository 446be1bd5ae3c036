import { orderV1 } from '@orderflow/proto';
import type { Order, OrderStatus } from '../domain/model';

const STATUS_TO_PROTO: Partial<Record<OrderStatus, orderV1.OrderStatus>> = {
  RESERVED: orderV1.OrderStatus.ORDER_STATUS_RESERVED,
  PAID: orderV1.OrderStatus.ORDER_STATUS_PAID,
  SHIPPED: orderV1.OrderStatus.ORDER_STATUS_SHIPPED,
  CANCELLED: orderV1.OrderStatus.ORDER_STATUS_CANCELLED,
  EXPIRED: orderV1.OrderStatus.ORDER_STATUS_EXPIRED,
};

const STATUS_FROM_PROTO = new Map(Object.entries(STATUS_TO_PROTO).map(([k, v]) => [v, k as OrderStatus]));

export function toProtoOrder(order: Order): orderV1.Order {
  return {
    id: order.id,
    customerId: order.customerId,
    status: STATUS_TO_PROTO[order.status] ?? orderV1.OrderStatus.ORDER_STATUS_UNSPECIFIED,
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

export function fromProtoOrder(order: orderV1.Order): Order {
  return {
    id: order.id,
    customerId: order.customerId,
    status: STATUS_FROM_PROTO.get(order.status) ?? 'FAILED',
    items: order.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPriceMinor: i.unitPriceMinor })),
    totalMinor: order.totalMinor,
    address: order.address,
    paymentMethod: order.paymentMethod,
    version: order.version,
    createdAt: order.createdAt as Date,
    updatedAt: order.updatedAt as Date,
    expiresAt: order.expiresAt as Date,
  };
}
