import {
  InsufficientStockError,
  PriceChangedError,
  ProductNotFoundError,
  ReservationMismatchError,
  ReservationStateError,
  ReservationTakenError,
} from './errors';
import type { ExpectedPrice, PriceMismatch, Product, Reservation, ReservationItem, ReserveCommand, StockShortage } from './model';

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
 * Refuses a Reserve the products as read cannot fill, in the order callers see: an unknown product
 * (ProductNotFoundError), then a price other than expected (PriceChangedError), then short stock
 * (InsufficientStockError). The same rule for the lock-free pre-check and inside the transaction.
 */
export function assertReservable(products: Map<string, Product>, command: Pick<ReserveCommand, 'items' | 'expectedPrices'>): void {
  const shortages = findShortages(products, command.items);
  const mismatches = findPriceMismatches(products, command.expectedPrices);
  if (mismatches.length > 0) throw new PriceChangedError(mismatches);
  if (shortages.length > 0) throw new InsufficientStockError(shortages);
}

/** The expected prices that differ from the products as read (products already known to exist). */
export function findPriceMismatches(products: Map<string, Product>, expected: ExpectedPrice[]): PriceMismatch[] {
  return expected
    .filter((e) => products.get(e.productId)?.priceMinor !== e.unitPriceMinor)
    .map((e) => ({ productId: e.productId, expectedUnitPriceMinor: e.unitPriceMinor, currentUnitPriceMinor: products.get(e.productId)?.priceMinor ?? 0 }));
}

/**
 * A Reserve for an order that already has a reservation. With a placement id, one made by another
 * placement (or a release marker) is refused: the caller made an id someone else holds. Otherwise the
 * same items return it unchanged (a retry); other items, or a reservation released since, are refused.
 */
export function replayReserve(existing: Reservation, command: Pick<ReserveCommand, 'items' | 'placementId'>): Reservation {
  if (command.placementId && existing.placementId !== command.placementId) throw new ReservationTakenError(existing.orderId);
  if (existing.status === 'RELEASED') throw new ReservationStateError(existing.orderId, existing.status, 'reserve');
  if (!sameItems(existing.items, command.items)) throw new ReservationMismatchError(existing.orderId);
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
