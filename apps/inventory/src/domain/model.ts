import type { inventoryV1 } from '@orderflow/proto';

/** A product and its stock counters as the contract carries them (libs/proto): available + reserved + sold === received, always. */
export type Product = inventoryV1.Product;

export interface ReservationItem {
  productId: string;
  quantity: number;
}

/** A unit price a Reserve's caller agreed to. */
export interface ExpectedPrice {
  productId: string;
  unitPriceMinor: number;
}

export interface PriceMismatch {
  productId: string;
  expectedUnitPriceMinor: number;
  currentUnitPriceMinor: number;
}

export type ReservationStatus = 'RESERVED' | 'COMMITTED' | 'RELEASED';

export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  /** One item per product, sorted by product id. */
  items: ReservationItem[];
  expiresAt?: Date;
  releaseReason?: string;
  /** The placement attempt that reserved it (absent for callers that send none, and for release markers). */
  placementId?: string;
}

export interface StockShortage {
  productId: string;
  requested: number;
  available: number;
}

/** A validated Reserve: items summed per product and sorted, so lock and update order is stable. */
export interface ReserveCommand {
  orderId: string;
  items: ReservationItem[];
  expiresAt: Date;
  /** Prices to check before anything is reserved (may be empty). */
  expectedPrices: ExpectedPrice[];
  placementId?: string;
}

export interface UpsertProductCommand {
  id: string;
  name: string;
  priceMinor: number;
  available: number;
}

/** A validated stock adjustment: `delta` (non-zero) added to available, with why and by whom. */
export interface AdjustStockCommand {
  productId: string;
  delta: number;
  /** Trimmed, 1-200 characters. */
  reason: string;
  actorId: string;
}

/** A stock adjustment as stored, with the product right after it. */
export interface StockAdjustment {
  id: number;
  product: Product;
}
