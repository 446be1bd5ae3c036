import { randomUUID } from 'node:crypto';
import { InsufficientStockError } from './errors';
import type { Order } from './model';
import type { InventoryPort } from './ports';
import { SoldOutProducts } from './sold-out-products';

export interface PlacementStockSettings {
  /** Inventory keeps the reservation this much longer than the order's expiry, so its own sweeper never beats ours. */
  reservationGraceMs: number;
  /** How long a product inventory refused as sold out is refused here without asking (0: always ask). */
  soldOutCacheMs?: number;
}

/**
 * A placement's stock: refused here for a product inventory just said is sold out; otherwise one Reserve
 * (inventory checks products, prices and stock in that one call) under a fresh placement id, held until
 * the order's expiry plus the grace.
 */
export function createPlacementStock(inventory: InventoryPort, settings: PlacementStockSettings) {
  const soldOut = new SoldOutProducts(settings.soldOutCacheMs ?? 0);
  return async function reserveStock(order: Order): Promise<void> {
    const placementId = randomUUID();
    const known = soldOut.shortages(order.items);
    if (known.length > 0) throw new InsufficientStockError(known);
    try {
      await inventory.reserve(order.id, order.items, new Date(order.expiresAt.getTime() + settings.reservationGraceMs), placementId);
    } catch (error) {
      if (error instanceof InsufficientStockError) soldOut.record(error.shortages);
      throw error;
    }
  };
}
