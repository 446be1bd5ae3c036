import type { inventoryV1, orderV1 } from '@orderflow/proto';
import { orderV1 as order } from '@orderflow/proto';
import { fromMinorUnits } from '../../domain/money';

const STATUS: Record<number, string> = {
  [order.OrderStatus.ORDER_STATUS_RESERVED]: 'RESERVED',
  [order.OrderStatus.ORDER_STATUS_PAID]: 'PAID',
  [order.OrderStatus.ORDER_STATUS_SHIPPED]: 'SHIPPED',
  [order.OrderStatus.ORDER_STATUS_CANCELLED]: 'CANCELLED',
  [order.OrderStatus.ORDER_STATUS_EXPIRED]: 'EXPIRED',
};

/** The REST order body: snake_case, money as decimals. */
export function presentOrder(o: orderV1.Order) {
  return {
    id: o.id,
    customer_id: o.customerId,
    status: STATUS[o.status] ?? 'UNKNOWN',
    items: o.items.map((i) => ({ product_id: i.productId, quantity: i.quantity, unit_price: fromMinorUnits(i.unitPriceMinor) })),
    total: fromMinorUnits(o.totalMinor),
    address: o.address,
    payment_method: o.paymentMethod,
    version: o.version,
    created_at: o.createdAt?.toISOString(),
    updated_at: o.updatedAt?.toISOString(),
    expires_at: o.expiresAt?.toISOString(),
  };
}

const ACTOR_KIND: Record<number, string> = {
  [order.ActorKind.ACTOR_KIND_CUSTOMER]: 'customer',
  [order.ActorKind.ACTOR_KIND_ADMIN]: 'admin',
  [order.ActorKind.ACTOR_KIND_SYSTEM]: 'system',
};

/** An order's history, oldest first: each status change with when, who (no id for the system) and why. */
export function presentOrderHistory(h: orderV1.GetOrderHistoryResponse) {
  return {
    order_id: h.orderId,
    entries: h.entries.map((e) => ({
      version: e.version,
      status: STATUS[e.status] ?? 'UNKNOWN',
      occurred_at: e.occurredAt?.toISOString(),
      actor: e.actorId ? { kind: ACTOR_KIND[e.actorKind] ?? 'unknown', id: e.actorId } : { kind: ACTOR_KIND[e.actorKind] ?? 'unknown' },
      reason: e.reason,
    })),
  };
}

export function presentProduct(p: inventoryV1.Product) {
  return { id: p.id, name: p.name, price: fromMinorUnits(p.priceMinor), available: p.available };
}
