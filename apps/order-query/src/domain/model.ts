import type { OrderEventKind } from '@orderflow/messaging';
import type { OrderSnapshot, OrderStatusName, UncheckedOrderSnapshot } from '@orderflow/proto';

export type { OrderEventKind };

/** The statuses a projected order can have (the command side never publishes PENDING or FAILED). */
export type OrderStatus = OrderStatusName;

export const ORDER_STATUSES: readonly OrderStatus[] = ['RESERVED', 'PAID', 'SHIPPED', 'CANCELLED', 'EXPIRED'];

/**
 * The read model: the whole order as the read side keeps it, denormalized, items included. It is the order
 * snapshot the events carry (libs/proto), as of the last event applied.
 */
export type OrderView = OrderSnapshot;

export type OrderItem = OrderView['items'][number];

/** A validated order event: the order as it is after the change, at `version`. */
export interface OrderEvent {
  eventId: string;
  kind: OrderEventKind;
  orderId: string;
  customerId: string;
  version: number;
  occurredAt: Date;
  order: OrderView;
}

/** An event as decoded from the wire, before validation: any field may be missing or wrong. */
export interface UncheckedOrderEvent {
  eventId: string;
  kind: OrderEventKind | undefined;
  orderId: string;
  customerId: string;
  version: number;
  occurredAt: Date | undefined;
  order: UncheckedOrderSnapshot | undefined;
}

export interface Actor {
  customerId: string;
  admin: boolean;
}

export interface GetOrderQuery {
  orderId: string;
  actor: Actor | undefined;
  /** 0: answer with what is projected now. */
  minVersion: number;
  waitMs: number;
}

export interface ListOrdersQuery {
  customerId: string;
  /** 0 means the default. */
  pageSize: number;
  pageToken: string;
}

/** The admin listing across customers; both filters optional. */
export interface ListAllOrdersQuery {
  actor: Actor | undefined;
  /** A status name (unchecked: anything else is INVALID_ARGUMENT); undefined for any status. */
  status: string | undefined;
  /** Empty: every customer. */
  customerId: string;
  /** 0 means the default. */
  pageSize: number;
  pageToken: string;
}

/** Which orders an admin listing shows. */
export interface AllOrdersFilter {
  status?: OrderStatus;
  customerId?: string;
}

export interface OrderPage {
  orders: OrderView[];
  /** Empty on the last page. */
  nextPageToken: string;
}

export interface ProjectionLag {
  eventsBehind: number;
  secondsBehind: number;
  eventsApplied: number;
  eventsDeadLettered: number;
  lastAppliedAt: Date | undefined;
}

/** Where an applied event's time went: made (order-command) -> stored in the stream (the relay's publish) -> applied and acked here. */
export interface AppliedTiming {
  occurredAt: Date;
  storedAt: Date;
  appliedAt: Date;
}
