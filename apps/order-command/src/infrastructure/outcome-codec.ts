import { orderFromProto, orderToProto, orderV1 } from '@orderflow/proto';
import { InsufficientStockError, OrderError, PriceChangedError, UnknownProductError } from '../domain/errors';
import type { Order } from '../domain/model';
import type { StoredOutcome } from '../domain/ports';

type StoredJson =
  | { kind: 'order'; order: string }
  | { kind: 'error'; reason: 'insufficient-stock'; shortages: InsufficientStockError['shortages'] }
  | { kind: 'error'; reason: 'price-changed'; prices: PriceChangedError['prices'] }
  | { kind: 'error'; reason: 'unknown-product'; productIds: string[] };

/** The answer kept under an idempotency key, so a replay returns exactly what the first call did. */
export function encodeOutcome(outcome: StoredOutcome): Buffer {
  let json: StoredJson;
  if (outcome.kind === 'order') {
    json = { kind: 'order', order: Buffer.from(orderV1.Order.encode(orderToProto(outcome.order)).finish()).toString('base64') };
  } else if (outcome.error instanceof InsufficientStockError) {
    json = { kind: 'error', reason: 'insufficient-stock', shortages: outcome.error.shortages };
  } else if (outcome.error instanceof PriceChangedError) {
    json = { kind: 'error', reason: 'price-changed', prices: outcome.error.prices };
  } else if (outcome.error instanceof UnknownProductError) {
    json = { kind: 'error', reason: 'unknown-product', productIds: outcome.error.productIds };
  } else {
    throw new Error(`cannot store an outcome of ${(outcome.error as OrderError).reason}`);
  }
  return Buffer.from(JSON.stringify(json));
}

export function decodeOutcome(stored: Buffer): StoredOutcome {
  const json = JSON.parse(stored.toString('utf8')) as StoredJson;
  if (json.kind === 'order') return { kind: 'order', order: storedOrder(orderV1.Order.decode(Buffer.from(json.order, 'base64'))) };
  switch (json.reason) {
    case 'insufficient-stock':
      return { kind: 'error', error: new InsufficientStockError(json.shortages) };
    case 'price-changed':
      return { kind: 'error', error: new PriceChangedError(json.prices) };
    case 'unknown-product':
      return { kind: 'error', error: new UnknownProductError(json.productIds) };
  }
}

/** An order this code stored itself: its times are set; a status the contract does not know reads as FAILED. */
function storedOrder(order: orderV1.Order): Order {
  const read = orderFromProto(order);
  return { ...read, status: read.status ?? 'FAILED', createdAt: read.createdAt as Date, updatedAt: read.updatedAt as Date, expiresAt: read.expiresAt as Date };
}
