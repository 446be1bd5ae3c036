import type { OrderEventKind } from '@orderflow/messaging';
import type { OrderSnapshot } from '@orderflow/proto';

export type { OrderEventKind };

/** PENDING and FAILED are internal: a placement in progress or given up. Callers never see them. */
export type OrderStatus = 'PENDING' | 'RESERVED' | 'PAID' | 'SHIPPED' | 'CANCELLED' | 'EXPIRED' | 'FAILED';

export const VISIBLE_STATUSES: readonly OrderStatus[] = ['RESERVED', 'PAID', 'SHIPPED', 'CANCELLED', 'EXPIRED'];

/** The order as the contract carries it (libs/proto), with order-command's own statuses. */
export type Order = OrderSnapshot<OrderStatus>;

export type OrderItem = Order['items'][number];

export interface Actor {
  customerId: string;
  admin: boolean;
}

/** Who made a change: a customer or an admin (by id), or the system (the expiry sweeper; no id). */
export interface ChangedBy {
  kind: 'CUSTOMER' | 'ADMIN' | 'SYSTEM';
  id?: string;
}

/** What the outbox stores: the event and the order as it is after the change; the history row records who and why. */
export interface OrderEventRecord {
  eventId: string;
  kind: OrderEventKind;
  order: Order;
  occurredAt: Date;
  changedBy: ChangedBy;
  reason: string;
}

/** One row of an order's history: a status change, when, who and why. */
export interface OrderHistoryEntry {
  version: number;
  status: OrderStatus;
  occurredAt: Date;
  changedBy: ChangedBy;
  reason: string;
}

/** What inventory is owed after a state change, settled right away or by the settler. */
export type StockAction = 'COMMIT' | 'RELEASE';

export interface PlaceOrderCommand {
  customerId: string;
  idempotencyKey?: string;
  /** The key was made by the gateway for its own one repeat, not sent by the client: no claim is needed (ADR 0007). */
  keyMadeByGateway?: boolean;
  items: OrderItem[];
  address: string;
  paymentMethod: string;
}

export interface StockShortage {
  productId: string;
  requested: number;
  available: number;
}

export interface PriceDifference {
  productId: string;
  requestedUnitPriceMinor: number;
  currentUnitPriceMinor: number;
}
