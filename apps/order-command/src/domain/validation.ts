import { createHash } from 'node:crypto';
import { FieldViolation, InvalidArgumentError } from './errors';
import type { Actor, PlaceOrderCommand } from './model';

export interface OrderLimits {
  maxItems: number;
  maxQuantity: number;
  maxUnitPriceMinor: number;
  maxAddressLength: number;
  maxIdempotencyKeyLength: number;
  paymentMethods: readonly string[];
}

export const DEFAULT_ORDER_LIMITS: OrderLimits = {
  maxItems: 50,
  maxQuantity: 1_000,
  maxUnitPriceMinor: 100_000_000,
  maxAddressLength: 500,
  maxIdempotencyKeyLength: 255,
  paymentMethods: ['card', 'paypal', 'bank_transfer', 'cash_on_delivery'],
};

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;
const ID_RULE = 'must be 1-64 characters of letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit';
const PRINTABLE_KEY = /^[\x21-\x7e]+$/;

function whole(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

export function validateActor(actor: Actor | undefined, violations: FieldViolation[] = []): Actor {
  if (!actor || typeof actor.customerId !== 'string' || (!actor.admin && !ID.test(actor.customerId))) {
    violations.push({ field: 'actor.customer_id', description: ID_RULE });
    throw new InvalidArgumentError(violations);
  }
  return actor;
}

export function validatePlaceOrder(input: PlaceOrderCommand, limits: OrderLimits): PlaceOrderCommand {
  const violations: FieldViolation[] = [];
  if (typeof input.customerId !== 'string' || !ID.test(input.customerId)) violations.push({ field: 'customer_id', description: ID_RULE });
  const key = input.idempotencyKey;
  if (key !== undefined && key !== '' && (key.length > limits.maxIdempotencyKeyLength || !PRINTABLE_KEY.test(key))) {
    violations.push({ field: 'idempotency_key', description: `must be 1-${limits.maxIdempotencyKeyLength} printable ASCII characters` });
  }
  if (!Array.isArray(input.items) || input.items.length === 0 || input.items.length > limits.maxItems) {
    violations.push({ field: 'items', description: `must hold 1 to ${limits.maxItems} items` });
  }
  (input.items ?? []).forEach((item, i) => {
    if (typeof item.productId !== 'string' || !ID.test(item.productId)) violations.push({ field: `items[${i}].product_id`, description: ID_RULE });
    if (!whole(item.quantity, 1, limits.maxQuantity)) violations.push({ field: `items[${i}].quantity`, description: `must be a whole number from 1 to ${limits.maxQuantity}` });
    if (!whole(item.unitPriceMinor, 0, limits.maxUnitPriceMinor)) {
      violations.push({ field: `items[${i}].unit_price`, description: `must be from 0 to ${limits.maxUnitPriceMinor / 100} with at most 2 decimal places` });
    }
  });
  const address = typeof input.address === 'string' ? input.address.trim() : '';
  if (address.length === 0 || address.length > limits.maxAddressLength) {
    violations.push({ field: 'address', description: `must be 1-${limits.maxAddressLength} characters` });
  }
  if (!limits.paymentMethods.includes(input.paymentMethod)) {
    violations.push({ field: 'payment_method', description: `must be one of ${limits.paymentMethods.join(', ')}` });
  }
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return { ...input, idempotencyKey: key || undefined, address };
}

export function orderTotal(items: { quantity: number; unitPriceMinor: number }[]): number {
  return items.reduce((sum, item) => sum + item.quantity * item.unitPriceMinor, 0);
}

/** What makes two PlaceOrder bodies "the same request" for an idempotency key. */
export function requestFingerprint(command: PlaceOrderCommand): string {
  const canonical = JSON.stringify({
    items: command.items.map((i) => [i.productId, i.quantity, i.unitPriceMinor]),
    address: command.address,
    paymentMethod: command.paymentMethod,
  });
  return createHash('sha256').update(canonical).digest('hex');
}
