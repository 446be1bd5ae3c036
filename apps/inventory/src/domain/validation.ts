import { FieldViolation, InvalidArgumentError } from './errors';
import type { AdjustStockCommand, ExpectedPrice, ReservationItem, ReserveCommand, UpsertProductCommand } from './model';

export interface InventoryLimits {
  maxItemsPerReservation: number;
  maxQuantity: number;
  maxPriceMinor: number;
  maxStock: number;
  /** How far ahead a reservation may expire. */
  maxReservationMs: number;
}

export const DEFAULT_LIMITS: InventoryLimits = {
  maxItemsPerReservation: 100,
  maxQuantity: 10_000,
  maxPriceMinor: 100_000_000_00,
  maxStock: 1_000_000_000,
  maxReservationMs: 7 * 24 * 3600_000,
};

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const ID_RULE = 'must be 1-64 characters of letters, digits, ".", "_", ":" or "-", starting with a letter or digit';

export function checkId(value: unknown, field: string, violations: FieldViolation[]): value is string {
  if (typeof value !== 'string' || !ID.test(value)) {
    violations.push({ field, description: ID_RULE });
    return false;
  }
  return true;
}

function checkWhole(value: unknown, field: string, min: number, max: number, violations: FieldViolation[]): boolean {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    violations.push({ field, description: `must be a whole number from ${min} to ${max}` });
    return false;
  }
  return true;
}

export function validateOrderId(orderId: unknown): string {
  const violations: FieldViolation[] = [];
  if (!checkId(orderId, 'order_id', violations)) throw new InvalidArgumentError(violations);
  return orderId as string;
}

/** Sums items of the same product and sorts by product id: the canonical form of a reservation. */
export function normalizeItems(items: ReservationItem[]): ReservationItem[] {
  const totals = new Map<string, number>();
  for (const item of items) totals.set(item.productId, (totals.get(item.productId) ?? 0) + item.quantity);
  return [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([productId, quantity]) => ({ productId, quantity }));
}

export interface ReserveInput {
  orderId: unknown;
  items: { productId: unknown; quantity: unknown }[];
  expiresAt: Date | undefined;
  expectedPrices?: { productId: unknown; unitPriceMinor: unknown }[];
  placementId?: unknown;
}

export function validateReserve(input: ReserveInput, limits: InventoryLimits, now: Date): ReserveCommand {
  const violations: FieldViolation[] = [];
  checkId(input.orderId, 'order_id', violations);
  if (input.items.length === 0 || input.items.length > limits.maxItemsPerReservation) {
    violations.push({ field: 'items', description: `must hold 1 to ${limits.maxItemsPerReservation} items` });
  }
  input.items.forEach((item, i) => {
    checkId(item.productId, `items[${i}].product_id`, violations);
    checkWhole(item.quantity, `items[${i}].quantity`, 1, limits.maxQuantity, violations);
  });
  const expectedPrices = input.expectedPrices ?? [];
  if (expectedPrices.length > limits.maxItemsPerReservation) {
    violations.push({ field: 'expected_prices', description: `must hold at most ${limits.maxItemsPerReservation} prices` });
  }
  const reservedIds = new Set(input.items.map((i) => i.productId));
  expectedPrices.forEach((price, i) => {
    if (checkId(price.productId, `expected_prices[${i}].product_id`, violations) && !reservedIds.has(price.productId)) {
      violations.push({ field: `expected_prices[${i}].product_id`, description: 'must be one of the items' });
    }
    checkWhole(price.unitPriceMinor, `expected_prices[${i}].unit_price_minor`, 0, limits.maxPriceMinor, violations);
  });
  const placementId = input.placementId === undefined || input.placementId === '' ? undefined : input.placementId;
  if (placementId !== undefined) checkId(placementId, 'placement_id', violations);
  if (!input.expiresAt || Number.isNaN(input.expiresAt.getTime())) {
    violations.push({ field: 'expires_at', description: 'is required' });
  } else if (input.expiresAt.getTime() <= now.getTime() || input.expiresAt.getTime() > now.getTime() + limits.maxReservationMs) {
    violations.push({ field: 'expires_at', description: `must be in the future and at most ${limits.maxReservationMs} ms ahead` });
  }
  if (violations.length > 0) throw new InvalidArgumentError(violations);

  const items = normalizeItems(input.items as ReservationItem[]);
  for (const item of items) {
    if (item.quantity > limits.maxQuantity) {
      violations.push({ field: `items(${item.productId}).quantity`, description: `summed over the order must be at most ${limits.maxQuantity}` });
    }
  }
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return {
    orderId: input.orderId as string,
    items,
    expiresAt: input.expiresAt as Date,
    expectedPrices: expectedPrices as ExpectedPrice[],
    ...(placementId === undefined ? {} : { placementId: placementId as string }),
  };
}

export function validateUpsert(input: { id: unknown; name: unknown; priceMinor: unknown; available: unknown }, limits: InventoryLimits): UpsertProductCommand {
  const violations: FieldViolation[] = [];
  checkId(input.id, 'id', violations);
  if (typeof input.name !== 'string' || input.name.trim().length === 0 || [...input.name].length > 200) {
    violations.push({ field: 'name', description: 'must be 1-200 characters' });
  }
  checkWhole(input.priceMinor, 'price_minor', 0, limits.maxPriceMinor, violations);
  checkWhole(input.available, 'available', 0, limits.maxStock, violations);
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return input as UpsertProductCommand;
}

export function validateProductIds(ids: unknown[], max: number): string[] {
  const violations: FieldViolation[] = [];
  if (ids.length === 0 || ids.length > max) violations.push({ field: 'product_ids', description: `must hold 1 to ${max} ids` });
  ids.forEach((id, i) => checkId(id, `product_ids[${i}]`, violations));
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return [...new Set(ids as string[])];
}

// C0 and C1 control characters: a reason is one line of text in any script, nothing else.
const CONTROL = /\p{Cc}/u;
export const MAX_REASON_CHARACTERS = 200;

/** The reason is trimmed; its length counts characters (code points), not UTF-16 units. */
export function validateAdjustStock(
  input: { productId: unknown; delta: unknown; reason: unknown; actorId: unknown },
  limits: InventoryLimits,
): AdjustStockCommand {
  const violations: FieldViolation[] = [];
  checkId(input.productId, 'product_id', violations);
  if (checkWhole(input.delta, 'delta', -limits.maxStock, limits.maxStock, violations) && input.delta === 0) {
    violations.push({ field: 'delta', description: 'must not be 0' });
  }
  const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
  if ([...reason].length === 0 || [...reason].length > MAX_REASON_CHARACTERS || CONTROL.test(reason)) {
    violations.push({ field: 'reason', description: `must be 1-${MAX_REASON_CHARACTERS} characters (after trimming), without control characters` });
  }
  const actorId = typeof input.actorId === 'string' ? input.actorId : '';
  if (actorId.length === 0 || actorId.length > 64 || CONTROL.test(actorId)) violations.push({ field: 'actor_id', description: 'must be 1-64 characters' });
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return { productId: input.productId as string, delta: input.delta as number, reason, actorId };
}
