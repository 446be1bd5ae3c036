import { createHash } from 'node:crypto';
import type { OrderLimits } from '@orderflow/proto';
import { FieldViolation, InvalidArgumentError } from './errors';
import type { Actor, PlaceOrderCommand } from './model';

export type { OrderLimits };

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

function freeText(value: unknown, field: string, maxLength: number, violations: FieldViolation[]): string {
  const text = typeof value === 'string' ? value.trim() : '';
  const length = [...text].length; // characters as MySQL counts them (code points), not UTF-16 units
  if (length === 0 || length > maxLength) violations.push({ field, description: `must be 1-${maxLength} characters (not counting spaces around it)` });
  return text;
}

export function validatePlaceOrder(input: PlaceOrderCommand, limits: OrderLimits): PlaceOrderCommand {
  const violations: FieldViolation[] = [];
  if (typeof input.customerId !== 'string' || !ID.test(input.customerId)) violations.push({ field: 'customer_id', description: ID_RULE });
  const key = input.idempotencyKey;
  if (key !== undefined && key !== '' && (key.length > limits.maxIdempotencyKeyLength || !PRINTABLE_KEY.test(key))) {
    violations.push({ field: 'idempotency_key', description: `must be 1-${limits.maxIdempotencyKeyLength} printable ASCII characters` });
  }
  if (input.keyMadeByGateway && !key) violations.push({ field: 'idempotency_key_made_by_gateway', description: 'is set only with an idempotency_key' });
  if (!Array.isArray(input.items) || input.items.length === 0 || input.items.length > limits.maxItems) {
    violations.push({ field: 'items', description: `must hold 1 to ${limits.maxItems} items` });
  }
  (input.items ?? []).forEach((item, i) => {
    if (typeof item.productId !== 'string' || !ID.test(item.productId)) violations.push({ field: `items[${i}].product_id`, description: ID_RULE });
    if (!whole(item.quantity, 1, limits.maxQuantity))
      violations.push({ field: `items[${i}].quantity`, description: `must be a whole number from 1 to ${limits.maxQuantity}` });
    if (!whole(item.unitPriceMinor, 0, limits.maxUnitPriceMinor)) {
      violations.push({ field: `items[${i}].unit_price`, description: `must be from 0 to ${limits.maxUnitPriceMinor / 100} with at most 2 decimal places` });
    }
  });
  // Free text in any script, as the client wrote it (trimmed): the address and the payment method.
  const address = freeText(input.address, 'address', limits.maxAddressLength, violations);
  const paymentMethod = freeText(input.paymentMethod, 'payment_method', limits.maxPaymentMethodLength, violations);
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return { ...input, idempotencyKey: key || undefined, keyMadeByGateway: input.keyMadeByGateway === true, address, paymentMethod };
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
