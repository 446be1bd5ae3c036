import { createHmac, timingSafeEqual } from 'node:crypto';
import { isValidOrderId } from '@orderflow/sharding';
import { InvalidPageTokenError } from './errors';

/** Where the next page starts: after `lastOrderId` (exclusive), in `customerId`'s listing. */
export interface PageCursor {
  customerId: string;
  lastOrderId: string;
}

// Generous: a real token is about 150 characters. Anything longer is refused before any work.
const MAX_TOKEN_LENGTH = 512;
const CONTEXT = 'orderflow.order_query.v1.ListOrders';

/**
 * Opaque, tamper-proof page tokens: base64url(JSON {c, o}) "." base64url(HMAC-SHA256(secret, payload)).
 * The signature covers the encoded payload string itself, and is compared as a string, so any changed
 * character (even a padding bit) is refused. A token names its customer and is refused for any other.
 */
export function createPageCursors(secret: string) {
  if (secret.length < 16) throw new Error('the page cursor secret must be at least 16 characters');
  const sign = (payload: string) => createHmac('sha256', secret).update(`${CONTEXT}\n${payload}`).digest('base64url');

  return {
    encode(cursor: PageCursor): string {
      const payload = Buffer.from(JSON.stringify({ c: cursor.customerId, o: cursor.lastOrderId })).toString('base64url');
      return `${payload}.${sign(payload)}`;
    },

    /** The cursor inside `token`, which must have been issued for `customerId`; InvalidPageTokenError otherwise. */
    decode(token: string, customerId: string): PageCursor {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new InvalidPageTokenError();
      const parts = token.split('.');
      if (parts.length !== 2) throw new InvalidPageTokenError();
      const [payload, signature] = parts as [string, string];
      const expected = Buffer.from(sign(payload));
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new InvalidPageTokenError();
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw new InvalidPageTokenError();
      }
      const { c, o } = (parsed ?? {}) as { c?: unknown; o?: unknown };
      if (c !== customerId || !isValidOrderId(o)) throw new InvalidPageTokenError();
      return { customerId: c, lastOrderId: o };
    },
  };
}

export type PageCursors = ReturnType<typeof createPageCursors>;
