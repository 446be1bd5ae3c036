import { ProductNotFoundError, ReservationMismatchError, ReservationStateError } from './errors';
import type { Product, Reservation, ReservationItem, StockShortage } from './model';

/**
 * Checks a reservation's items against the products as read: which are unknown, which are short.
 * Pure, so the same rule runs in the lock-free pre-check and inside the transaction.
 */
export function findShortages(products: Map<string, Product>, items: ReservationItem[]): StockShortage[] {
  const missing = items.filter((item) => !products.has(item.productId)).map((item) => item.productId);
  if (missing.length > 0) throw new ProductNotFoundError(missing);
  return items
    .map((item) => ({ productId: item.productId, requested: item.quantity, available: (products.get(item.productId) as Product).available }))
    .filter((s) => s.available < s.requested);
}

export function sameItems(a: ReservationItem[], b: ReservationItem[]): boolean {
  return a.length === b.length && a.every((item, i) => item.productId === b[i]?.productId && item.quantity === b[i]?.quantity);
}

/**
 * A Reserve for an order that already has a reservation: the same items return it unchanged (a
 * retry); other items, or a reservation released since, are refused.
 */
export function replayReserve(existing: Reservation, items: ReservationItem[]): Reservation {
  if (existing.status === 'RELEASED') throw new ReservationStateError(existing.orderId, existing.status, 'reserve');
  if (!sameItems(existing.items, items)) throw new ReservationMismatchError(existing.orderId);
  return existing;
}

/**
 * Fills a batch of single-product requests from what is available, in arrival order: each request is
 * all or nothing, and one that cannot be filled is refused alone (later, smaller ones may still fit).
 * Returns, per request in order, the quantity left before it when refused, or 'filled'.
 */
export function allocateInArrivalOrder(available: number, quantities: number[]): { outcomes: ('filled' | { shortOf: number })[]; total: number } {
  let left = available;
  let total = 0;
  const outcomes = quantities.map((quantity) => {
    if (quantity > left) return { shortOf: left };
    left -= quantity;
    total += quantity;
    return 'filled' as const;
  });
  return { outcomes, total };
}
