import { orderV1 } from '@orderflow/proto';
import type { OrderStatus, OrderView } from '../domain/model';

const STATUS_TO_PROTO: Record<OrderStatus, orderV1.OrderStatus> = {
  RESERVED: orderV1.OrderStatus.ORDER_STATUS_RESERVED,
  PAID: orderV1.OrderStatus.ORDER_STATUS_PAID,
  SHIPPED: orderV1.OrderStatus.ORDER_STATUS_SHIPPED,
  CANCELLED: orderV1.OrderStatus.ORDER_STATUS_CANCELLED,
  EXPIRED: orderV1.OrderStatus.ORDER_STATUS_EXPIRED,
};

const STATUS_FROM_PROTO = new Map(Object.entries(STATUS_TO_PROTO).map(([k, v]) => [v, k as OrderStatus]));

export const statusFromProto = (status: orderV1.OrderStatus): OrderStatus | undefined => STATUS_FROM_PROTO.get(status);

export function toProtoOrder(view: OrderView): orderV1.Order {
  return {
    id: view.id,
    customerId: view.customerId,
    status: STATUS_TO_PROTO[view.status],
    items: view.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPriceMinor: i.unitPriceMinor })),
    totalMinor: view.totalMinor,
    address: view.address,
    paymentMethod: view.paymentMethod,
    version: view.version,
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
    expiresAt: view.expiresAt,
  };
}
