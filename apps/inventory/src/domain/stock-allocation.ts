import type { PriceMismatch, Product, Reservation, ReservationItem, ReserveCommand } from './model';
import { allocateInArrivalOrder, findPriceMismatches } from './stock';

/** What a batch transaction read before deciding: the batch's products, and which of its orders are already stored. */
export interface BatchSnapshot {
  /** The products as read (an id absent here is an unknown product). */
  products: Map<string, Product>;
  /** Orders already stored: retries, or a call that got there first. They answer from what is stored. */
  storedOrderIds: Set<string>;
}

/** What one Reserve of the batch gets. */
export type BatchDecision =
  | { kind: 'reserved'; reservation: Reservation }
  | { kind: 'stored' }
  | { kind: 'short'; available: number }
  | { kind: 'not-found' }
  | { kind: 'price-changed'; mismatches: PriceMismatch[] };

/** One conditional UPDATE: `quantity` moves from available to reserved if the product is still at `version` and has it. */
export interface StockTake {
  productId: string;
  version: number;
  quantity: number;
  /** The product's available stock once the take is applied. */
  availableAfter: number;
}

export interface BatchAllocation {
  /** One per command, in the order given. */
  decisions: BatchDecision[];
  /** One per product that gives any stock, in the order its first request came. */
  takes: StockTake[];
  /** The granted Reserves, whose reservation rows are stored: product by product, each in arrival order. */
  granted: ReserveCommand[];
}

/** The reservation a granted Reserve stores. */
export const reservationOf = (command: ReserveCommand): Reservation => ({
  orderId: command.orderId,
  status: 'RESERVED',
  items: command.items,
  expiresAt: command.expiresAt,
  ...(command.placementId ? { placementId: command.placementId } : {}),
});

const itemOf = (command: ReserveCommand) => command.items[0] as ReservationItem;

/**
 * Who gets the stock of a batch of single-product Reserves (distinct orders, in arrival order), from
 * the products as read in the batch's transaction. Per product, first come first served: a stored order
 * answers from what is stored; an unknown product refuses its requests; a request expecting another
 * price is refused before any stock is counted for it; then each request is all or nothing, and one
 * that does not fit is refused alone with what was left (smaller ones behind it may still fit).
 * Pure: the store runs the takes and stores the granted reservations in one transaction.
 */
export function allocateBatch(commands: ReserveCommand[], { products, storedOrderIds }: BatchSnapshot): BatchAllocation {
  const byOrder = new Map<string, BatchDecision>();
  const takes: StockTake[] = [];
  const granted: ReserveCommand[] = [];
  for (const productId of new Set(commands.map((c) => itemOf(c).productId))) {
    const fresh = commands.filter((c) => itemOf(c).productId === productId && !storedOrderIds.has(c.orderId));
    const product = products.get(productId);
    if (!product) {
      for (const command of fresh) byOrder.set(command.orderId, { kind: 'not-found' });
      continue;
    }
    const priced = fresh.filter((command) => {
      const mismatches = findPriceMismatches(products, command.expectedPrices);
      if (mismatches.length > 0) byOrder.set(command.orderId, { kind: 'price-changed', mismatches });
      return mismatches.length === 0;
    });
    const { outcomes, total } = allocateInArrivalOrder(
      product.available,
      priced.map((c) => itemOf(c).quantity),
    );
    priced.forEach((command, i) => {
      const outcome = outcomes[i] as 'filled' | { shortOf: number };
      if (outcome === 'filled') {
        granted.push(command);
        byOrder.set(command.orderId, { kind: 'reserved', reservation: reservationOf(command) });
      } else byOrder.set(command.orderId, { kind: 'short', available: outcome.shortOf });
    });
    if (total > 0) takes.push({ productId, version: product.version, quantity: total, availableAfter: product.available - total });
  }
  return { decisions: commands.map((c) => byOrder.get(c.orderId) ?? { kind: 'stored' }), takes, granted };
}
