import type { Product, StockAdjustment } from './model';
import type { InventoryStore, StockLocks } from './ports';
import type { ConflictRetries } from './conflict-retries';
import { InventoryLimits, validateAdjustStock, validateProductIds, validateUpsert } from './validation';

/** The catalog side: create or update a product, read products, adjust a product's stock. */
export function createProductUseCases(deps: { store: InventoryStore; locks: StockLocks; limits: InventoryLimits; withRetries: ConflictRetries }) {
  const { store, locks, limits, withRetries } = deps;
  return {
    async upsertProduct(input: { id: unknown; name: unknown; priceMinor: unknown; available: unknown }) {
      const command = validateUpsert(input, limits);
      return locks.withLocks([command.id], () => store.upsertProduct(command));
    },

    async getProducts(ids: unknown[]): Promise<{ products: Product[]; missing: string[] }> {
      const wanted = validateProductIds(ids, limits.maxItemsPerReservation);
      const products = await store.getProducts(wanted);
      const found = new Set(products.map((p) => p.id));
      return { products, missing: wanted.filter((id) => !found.has(id)) };
    },

    /**
     * An admin's stock change by a delta, with its reason. Under the product's lock (which Reserve, Commit
     * and Release take too), one version-checked UPDATE bounded by available + delta >= 0: a concurrent
     * reservation either happened before (then the bound sees it) or makes the version check fail and
     * the adjustment run again on fresh data. Never negative, never a lost update.
     */
    async adjustStock(input: Parameters<typeof validateAdjustStock>[0]): Promise<StockAdjustment> {
      const command = validateAdjustStock(input, limits);
      return locks.withLocks([command.productId], () => withRetries(() => store.adjustStockAttempt(command)));
    },
  };
}
