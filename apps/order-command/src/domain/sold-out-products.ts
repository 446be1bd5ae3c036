import type { OrderItem, StockShortage } from './model';

/**
 * Products inventory just refused as sold out (available 0), remembered for `ttlMs`: in a flash sale
 * most requests come after the stock is gone, and each would otherwise cross to inventory to hear the
 * same answer. The price: for at most `ttlMs` after stock comes back (a restock, a cancelled or expired
 * order), this process still refuses that product. 0 turns it off.
 */
export class SoldOutProducts {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Remembers the products of a refusal that had none left. */
  record(shortages: StockShortage[]): void {
    if (this.ttlMs <= 0) return;
    const until = this.now() + this.ttlMs;
    for (const shortage of shortages) if (shortage.available === 0) this.until.set(shortage.productId, until);
    if (this.until.size > 10_000) this.prune();
  }

  /** The refusal inventory would give now for the items of remembered products, summed per product. */
  shortages(items: OrderItem[]): StockShortage[] {
    if (this.until.size === 0) return [];
    const now = this.now();
    const requested = new Map<string, number>();
    for (const item of items) {
      const until = this.until.get(item.productId);
      if (until === undefined) continue;
      if (until <= now) this.until.delete(item.productId);
      else requested.set(item.productId, (requested.get(item.productId) ?? 0) + item.quantity);
    }
    return [...requested].map(([productId, quantity]) => ({ productId, requested: quantity, available: 0 }));
  }

  private prune(): void {
    const now = this.now();
    for (const [productId, until] of this.until) if (until <= now) this.until.delete(productId);
  }
}
