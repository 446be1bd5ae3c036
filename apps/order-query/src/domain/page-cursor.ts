import { createHmac, timingSafeEqual } from 'node:crypto';
import { isValidOrderId } from '@orderflow/sharding';
import { InvalidPageTokenError } from './errors';
import type { AllOrdersFilter } from './model';

/** Where the next page starts: after `lastOrderId` (exclusive), in `customerId`'s listing. */
export interface PageCursor {
  customerId: string;
  lastOrderId: string;
}

/** Where the next page of the admin listing starts: after `lastOrderId` (exclusive), under the same filter. */
export interface AllOrdersCursor {
  filter: AllOrdersFilter;
  lastOrderId: string;
}

// Generous: a real token is about 150 characters. Anything longer is refused before any work.
const MAX_TOKEN_LENGTH = 512;
// Each listing signs under its own context, so a token of one is never accepted by the other.
const CONTEXT = 'orderflow.order_query.v1.ListOrders';
const ALL_ORDERS_CONTEXT = 'orderflow.order_query.v1.ListAllOrders';

/**
 * Opaque, tamper-proof page tokens: base64url(JSON payload) "." base64url(HMAC-SHA256(secret, payload)).
 * The signature covers the encoded payload string itself, and is compared as a string, so any changed
 * character (even a padding bit) is refused. A token names its customer (or, for the admin listing, its
 * filters) and is refused for any other.
 */
export function createPageCursors(secret: string) {
  if (secret.length < 16) throw new Error('the page cursor secret must be at least 16 characters');
  const sign = (context: string, payload: string) => createHmac('sha256', secret).update(`${context}\n${payload}`).digest('base64url');

  const seal = (context: string, fields: object): string => {
    const payload = Buffer.from(JSON.stringify(fields)).toString('base64url');
    return `${payload}.${sign(context, payload)}`;
  };

  /** The signed fields, or InvalidPageTokenError for anything this service did not sign under `context`. */
  const open = (context: string, token: string): Record<string, unknown> => {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new InvalidPageTokenError();
    const parts = token.split('.');
    if (parts.length !== 2) throw new InvalidPageTokenError();
    const [payload, signature] = parts as [string, string];
    const expected = Buffer.from(sign(context, payload));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new InvalidPageTokenError();
    try {
      const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
    } catch {
      // falls through
    }
    throw new InvalidPageTokenError();
  };

  return {
    encode(cursor: PageCursor): string {
      return seal(CONTEXT, { c: cursor.customerId, o: cursor.lastOrderId });
    },

    /** The cursor inside `token`, which must have been issued for `customerId`; InvalidPageTokenError otherwise. */
    decode(token: string, customerId: string): PageCursor {
      const { c, o } = open(CONTEXT, token);
      if (c !== customerId || !isValidOrderId(o)) throw new InvalidPageTokenError();
      return { customerId: c, lastOrderId: o };
    },

    encodeAllOrders(cursor: AllOrdersCursor): string {
      return seal(ALL_ORDERS_CONTEXT, { s: cursor.filter.status ?? '', c: cursor.filter.customerId ?? '', o: cursor.lastOrderId });
    },

    /** The last order id inside `token`, which must have been issued for the same filter; InvalidPageTokenError otherwise. */
    decodeAllOrders(token: string, filter: AllOrdersFilter): AllOrdersCursor {
      const { s, c, o } = open(ALL_ORDERS_CONTEXT, token);
      if (s !== (filter.status ?? '') || c !== (filter.customerId ?? '') || !isValidOrderId(o)) throw new InvalidPageTokenError();
      return { filter, lastOrderId: o };
    },
  };
}

export type PageCursors = ReturnType<typeof createPageCursors>;
