/**
 * Order ids: 64-bit, time-ordered, Instagram style. From the most significant bit down:
 *   1 bit zero (ids stay positive as signed 64-bit) | 41 bits milliseconds since ORDER_ID_EPOCH_MS |
 *   10 bits logical bucket | 12 bits sequence within the millisecond.
 * Decimal strings at the edges (JSON, proto string fields, SQL parameters); bigint inside.
 */

/** 2025-01-01T00:00:00Z: 41 bits of milliseconds from here last until 2094. */
export const ORDER_ID_EPOCH_MS = Date.UTC(2025, 0, 1);
export const BUCKET_BITS = 10;
export const SEQUENCE_BITS = 12;
export const TIMESTAMP_BITS = 41;
export const BUCKET_COUNT = 1 << BUCKET_BITS;
export const MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1;
/** The last Unix millisecond an id can carry. */
export const MAX_ORDER_ID_TIMESTAMP_MS = ORDER_ID_EPOCH_MS + 2 ** TIMESTAMP_BITS - 1;
export const MAX_ORDER_ID = (1n << 63n) - 1n;

/** 2^63 - 1 has 19 digits; checking the length first keeps a hostile megabyte string away from BigInt. */
const MAX_DIGITS = MAX_ORDER_ID.toString().length;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

export interface OrderIdParts {
  /** Unix milliseconds (not relative to the custom epoch), so `new Date(timestampMs)` just works. */
  timestampMs: number;
  bucket: number;
  sequence: number;
}

export class InvalidOrderIdError extends Error {
  constructor(
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid order id ${describe(value)}: ${reason}`);
    this.name = 'InvalidOrderIdError';
  }
}

/** Parses a decimal order id strictly (digits only, no sign, no leading zeros, at most 2^63 - 1). */
export function parseOrderId(id: string): bigint {
  if (typeof id !== 'string') throw new InvalidOrderIdError(id, 'not a string');
  if (id.length === 0) throw new InvalidOrderIdError(id, 'empty');
  if (id.length > MAX_DIGITS) throw new InvalidOrderIdError(id, `longer than ${MAX_DIGITS} digits`);
  if (!DECIMAL.test(id)) throw new InvalidOrderIdError(id, 'not a decimal number without sign or leading zeros');
  const value = BigInt(id);
  if (value > MAX_ORDER_ID) throw new InvalidOrderIdError(id, 'larger than 2^63 - 1');
  return value;
}

export function isValidOrderId(id: unknown): id is string {
  try {
    parseOrderId(id as string);
    return true;
  } catch (error) {
    if (error instanceof InvalidOrderIdError) return false;
    throw error;
  }
}

export function decodeOrderId(id: string): OrderIdParts {
  const value = parseOrderId(id);
  return {
    timestampMs: ORDER_ID_EPOCH_MS + Number(value >> BigInt(BUCKET_BITS + SEQUENCE_BITS)),
    bucket: Number((value >> BigInt(SEQUENCE_BITS)) & BigInt(BUCKET_COUNT - 1)),
    sequence: Number(value & BigInt(MAX_SEQUENCE)),
  };
}

export function encodeOrderId(parts: OrderIdParts): string {
  const { timestampMs, bucket, sequence } = parts;
  checkInteger(parts, 'timestampMs', timestampMs, ORDER_ID_EPOCH_MS, MAX_ORDER_ID_TIMESTAMP_MS);
  checkInteger(parts, 'bucket', bucket, 0, BUCKET_COUNT - 1);
  checkInteger(parts, 'sequence', sequence, 0, MAX_SEQUENCE);
  const value = (BigInt(timestampMs - ORDER_ID_EPOCH_MS) << BigInt(BUCKET_BITS + SEQUENCE_BITS)) | (BigInt(bucket) << BigInt(SEQUENCE_BITS)) | BigInt(sequence);
  return value.toString();
}

/** The bucket an order id carries; throws InvalidOrderIdError for a malformed id. */
export function bucketOfOrderId(id: string): number {
  return decodeOrderId(id).bucket;
}

function checkInteger(parts: OrderIdParts, field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOrderIdError(parts, `${field} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
