import { BUCKET_COUNT } from './order-id';

const utf8 = new TextEncoder();
// A local binding: global look-ups are slow inside Jest's vm sandbox, and this runs on every order.
const imul = Math.imul;

/**
 * The logical bucket of a customer: MurmurHash3 (x86, 32-bit, seed 0) of the id's UTF-8 bytes, modulo
 * the bucket count. Murmur3 rather than FNV-1a because its low bits avalanche well even for ids that
 * differ in one trailing digit. The result is part of every stored order id: never change the hash.
 */
export function bucketForCustomer(customerId: string, bucketCount: number = BUCKET_COUNT): number {
  if (typeof customerId !== 'string') throw new TypeError('customer id must be a string');
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > 2 ** 32) {
    throw new RangeError(`bucket count must be an integer in 1..2^32, got ${String(bucketCount)}`);
  }
  return murmur3_32(utf8.encode(customerId)) % bucketCount;
}

/** MurmurHash3_x86_32 as an unsigned 32-bit number. */
export function murmur3_32(bytes: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const length = bytes.length;
  const blocks = length & ~3;
  let h = seed >>> 0;

  for (let i = 0; i < blocks; i += 4) {
    let k = (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24);
    k = imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (imul(h, 5) + 0xe6546b64) | 0;
  }

  const tail = length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= (bytes[blocks + 2] as number) << 16;
    if (tail >= 2) k ^= (bytes[blocks + 1] as number) << 8;
    k ^= bytes[blocks] as number;
    k = imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = imul(k, c2);
    h ^= k;
  }

  h ^= length;
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
