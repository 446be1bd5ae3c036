import { bucketForCustomer, bucketOfOrderId, isValidOrderId } from '@orderflow/sharding';
import { FieldViolation, InvalidArgumentError, InvalidEventError, PermissionDeniedError } from './errors';
import { Actor, ORDER_STATUSES, OrderEvent, OrderStatus, UncheckedOrderEvent } from './model';

/** The same id rule as order-command (customer and product ids). */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;
const ID_RULE = 'must be 1-64 characters of letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit';
const ORDER_ID_RULE = 'must be an order id: a decimal number up to 2^63 - 1';

export const PAGE_SIZE = { default: 20, max: 100 } as const;

export function validateActor(actor: Actor | undefined): Actor {
  if (!actor || typeof actor.customerId !== 'string' || (!actor.admin && !ID.test(actor.customerId))) {
    throw new InvalidArgumentError([{ field: 'actor.customer_id', description: ID_RULE }]);
  }
  return actor;
}

export function validateGetOrder(input: { orderId: unknown; actor: Actor | undefined; minVersion: number; waitMs: number }): void {
  const violations: FieldViolation[] = [];
  if (!isValidOrderId(input.orderId)) violations.push({ field: 'order_id', description: ORDER_ID_RULE });
  if (!Number.isSafeInteger(input.minVersion) || input.minVersion < 0) violations.push({ field: 'min_version', description: 'must be 0 or more' });
  if (!Number.isSafeInteger(input.waitMs) || input.waitMs < 0) violations.push({ field: 'wait_ms', description: 'must be 0 or more' });
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  validateActor(input.actor);
}

/** Returns the page size to use (0 means the default). */
export function validateListOrders(input: { customerId: unknown; pageSize: number }): number {
  const violations: FieldViolation[] = [];
  if (typeof input.customerId !== 'string' || !ID.test(input.customerId)) violations.push({ field: 'customer_id', description: ID_RULE });
  if (!Number.isInteger(input.pageSize) || input.pageSize < 0 || input.pageSize > PAGE_SIZE.max) {
    violations.push({ field: 'page_size', description: `must be 1 to ${PAGE_SIZE.max} (0 for ${PAGE_SIZE.default})` });
  }
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return input.pageSize === 0 ? PAGE_SIZE.default : input.pageSize;
}

/**
 * The admin listing: the actor first (malformed: INVALID_ARGUMENT; not an admin: PERMISSION_DENIED), then
 * the filters. Returns the status filter (undefined: any) and the page size to use (0 means the default).
 */
export function validateListAllOrders(input: { actor: Actor | undefined; status: string | undefined; customerId: unknown; pageSize: number }): {
  status: OrderStatus | undefined;
  pageSize: number;
} {
  const actor = validateActor(input.actor);
  if (!actor.admin) throw new PermissionDeniedError('listing all orders');
  const violations: FieldViolation[] = [];
  const status = ORDER_STATUSES.find((known) => known === input.status);
  if (input.status !== undefined && !status) violations.push({ field: 'status', description: `must be one of ${ORDER_STATUSES.join(', ')}, or unset for any` });
  if (typeof input.customerId !== 'string' || (input.customerId !== '' && !ID.test(input.customerId))) {
    violations.push({ field: 'customer_id', description: `${ID_RULE}; or empty for every customer` });
  }
  if (!Number.isInteger(input.pageSize) || input.pageSize < 0 || input.pageSize > PAGE_SIZE.max) {
    violations.push({ field: 'page_size', description: `must be 1 to ${PAGE_SIZE.max} (0 for ${PAGE_SIZE.default})` });
  }
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return { status, pageSize: input.pageSize === 0 ? PAGE_SIZE.default : input.pageSize };
}

const isWhole = (value: unknown, min: number): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
const isDate = (value: unknown): value is Date => value instanceof Date && !Number.isNaN(value.getTime());

/**
 * Checks an event against the contract in docs/events.md. What fails here can never be applied, so
 * it is a poison message: InvalidEventError, dead-lettered by the consumer.
 */
export function validateOrderEvent(event: UncheckedOrderEvent): OrderEvent {
  const problems: string[] = [];
  const { order } = event;
  if (typeof event.eventId !== 'string' || event.eventId.length === 0 || event.eventId.length > 64) problems.push('event_id must be 1-64 characters');
  if (!event.kind) problems.push('the event kind is missing');
  if (!isValidOrderId(event.orderId)) problems.push(`order_id ${JSON.stringify(String(event.orderId).slice(0, 40))} is not an order id`);
  if (typeof event.customerId !== 'string' || !ID.test(event.customerId)) problems.push('customer_id is not a customer id');
  if (!isWhole(event.version, 1)) problems.push('version must be 1 or more');
  if (!isDate(event.occurredAt)) problems.push('occurred_at is missing');
  if (problems.length === 0 && bucketOfOrderId(event.orderId) !== bucketForCustomer(event.customerId)) {
    problems.push("order_id does not carry the customer's bucket");
  }
  if (!order) {
    problems.push('the order is missing');
  } else {
    if (order.id !== event.orderId || order.customerId !== event.customerId || order.version !== event.version) {
      problems.push("the order's id, customer or version differs from the event's");
    }
    if (!order.status || !ORDER_STATUSES.includes(order.status)) problems.push('the order status is missing or unknown');
    if (!isDate(order.createdAt) || !isDate(order.updatedAt) || !isDate(order.expiresAt)) problems.push("the order's timestamps are missing");
    if (!isWhole(order.totalMinor, 0)) problems.push('total_minor must be a whole number, 0 or more');
    if (typeof order.paymentMethod !== 'string' || [...order.paymentMethod].length > 64) problems.push('payment_method must be at most 64 characters');
    order.items.forEach((item, i) => {
      if (typeof item.productId !== 'string' || !ID.test(item.productId)) problems.push(`items[${i}].product_id is not a product id`);
      if (!isWhole(item.quantity, 1) || !isWhole(item.unitPriceMinor, 0)) problems.push(`items[${i}] needs a quantity of 1 or more and a price of 0 or more`);
    });
  }
  if (problems.length > 0) throw new InvalidEventError(`invalid order event: ${problems.join('; ')}`);
  return event as OrderEvent;
}
