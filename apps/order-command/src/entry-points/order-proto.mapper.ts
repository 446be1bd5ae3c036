import { orderV1 } from '@orderflow/proto';
import type { ChangedBy, Order, OrderHistoryEntry, OrderStatus } from '../domain/model';

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

const ACTOR_KIND_TO_PROTO: Record<ChangedBy['kind'], orderV1.ActorKind> = {
  CUSTOMER: orderV1.ActorKind.ACTOR_KIND_CUSTOMER,
  ADMIN: orderV1.ActorKind.ACTOR_KIND_ADMIN,
  SYSTEM: orderV1.ActorKind.ACTOR_KIND_SYSTEM,
};

export function toProtoHistoryEntry(entry: OrderHistoryEntry): orderV1.OrderHistoryEntry {
  return {
    version: entry.version,
    status: STATUS_TO_PROTO[entry.status] ?? orderV1.OrderStatus.ORDER_STATUS_UNSPECIFIED,
    occurredAt: entry.occurredAt,
    actorKind: ACTOR_KIND_TO_PROTO[entry.changedBy.kind] ?? orderV1.ActorKind.ACTOR_KIND_UNSPECIFIED,
    actorId: entry.changedBy.id ?? '',
    reason: entry.reason,
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
