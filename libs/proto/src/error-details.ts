import { Metadata, status } from '@grpc/grpc-js';
import { InsufficientStock, PriceMismatch, PriceMismatches, StockShortage } from './generated/orderflow/inventory/v1/inventory';
import { CurrentPrice, PriceChanged } from './generated/orderflow/order/v1/order_command_service';

/**
 * Error details that travel in gRPC trailing metadata, shared by the servers that set them and the
 * clients that read them. The reason is a short machine-readable word (the union in error-contract.ts,
 * which servers write through); details are protobuf messages or JSON. The keys are the wire format.
 */
export const ERROR_REASON_KEY = 'orderflow-error-reason';
export const INSUFFICIENT_STOCK_KEY = 'orderflow-insufficient-stock-bin';
export const PRICE_CHANGED_KEY = 'orderflow-price-changed-bin';
export const PRICE_MISMATCHES_KEY = 'orderflow-price-mismatches-bin';
export const FIELD_VIOLATIONS_KEY = 'orderflow-field-violations';

export function errorReason(metadata: Metadata | undefined): string | undefined {
  const [value] = metadata?.get(ERROR_REASON_KEY) ?? [];
  return typeof value === 'string' ? value : undefined;
}

/**
 * UNAVAILABLE that the service did not send itself (no reason in trailing metadata): the connection
 * failed or dropped, or the process died, possibly after it had done the work. The outcome is unknown.
 * A service that knows it changed nothing says so with reason `unavailable`.
 */
export function isCutOff(error: unknown): boolean {
  const e = error as { code?: unknown; metadata?: Metadata };
  return e?.code === status.UNAVAILABLE && !!e.metadata && errorReason(e.metadata) === undefined;
}

export function setInsufficientStock(metadata: Metadata, shortages: StockShortage[]): void {
  metadata.set(INSUFFICIENT_STOCK_KEY, Buffer.from(InsufficientStock.encode({ shortages }).finish()));
}

export function readInsufficientStock(metadata: Metadata | undefined): StockShortage[] {
  const [value] = metadata?.get(INSUFFICIENT_STOCK_KEY) ?? [];
  return value instanceof Buffer ? InsufficientStock.decode(value).shortages : [];
}

export function setPriceChanged(metadata: Metadata, prices: CurrentPrice[]): void {
  metadata.set(PRICE_CHANGED_KEY, Buffer.from(PriceChanged.encode({ prices }).finish()));
}

export function readPriceChanged(metadata: Metadata | undefined): CurrentPrice[] {
  const [value] = metadata?.get(PRICE_CHANGED_KEY) ?? [];
  return value instanceof Buffer ? PriceChanged.decode(value).prices : [];
}

/** Inventory's Reserve: the products whose price is not the expected one. */
export function setPriceMismatches(metadata: Metadata, mismatches: PriceMismatch[]): void {
  metadata.set(PRICE_MISMATCHES_KEY, Buffer.from(PriceMismatches.encode({ mismatches }).finish()));
}

export function readPriceMismatches(metadata: Metadata | undefined): PriceMismatch[] {
  const [value] = metadata?.get(PRICE_MISMATCHES_KEY) ?? [];
  return value instanceof Buffer ? PriceMismatches.decode(value).mismatches : [];
}

export interface FieldViolation {
  field: string;
  description: string;
}

export function setFieldViolations(metadata: Metadata, violations: FieldViolation[]): void {
  metadata.set(FIELD_VIOLATIONS_KEY, JSON.stringify(violations));
}

export function readFieldViolations(metadata: Metadata | undefined): FieldViolation[] {
  const [value] = metadata?.get(FIELD_VIOLATIONS_KEY) ?? [];
  try {
    return typeof value === 'string' ? (JSON.parse(value) as FieldViolation[]) : [];
  } catch {
    return [];
  }
}

export const PRODUCT_IDS_KEY = 'orderflow-product-ids';

/** The products an error is about (for example the unknown ones), as JSON. */
export function setProductIds(metadata: Metadata, productIds: string[]): void {
  metadata.set(PRODUCT_IDS_KEY, JSON.stringify(productIds));
}

export function readProductIds(metadata: Metadata | undefined): string[] {
  const [value] = metadata?.get(PRODUCT_IDS_KEY) ?? [];
  try {
    const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : [];
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

export const RETRY_AFTER_MS_KEY = 'orderflow-retry-after-ms';

/** How long the caller should wait before retrying a refusal (RESOURCE_EXHAUSTED), in milliseconds. */
export function setRetryAfterMs(metadata: Metadata, ms: number): void {
  metadata.set(RETRY_AFTER_MS_KEY, String(Math.max(0, Math.round(ms))));
}

export function readRetryAfterMs(metadata: Metadata | undefined): number | undefined {
  const [value] = metadata?.get(RETRY_AFTER_MS_KEY) ?? [];
  return typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}
