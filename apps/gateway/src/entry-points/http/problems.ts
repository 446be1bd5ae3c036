import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { errorContract, errorDetails, type ErrorReason } from '@orderflow/proto';
import { fromMinorUnits } from '../../domain/money';

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details; `type` is a relative URI the gateway also serves (GET /problems/{slug}). */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  body(instance?: string): Record<string, unknown> {
    return { type: `/problems/${this.slug}`, title: this.title, status: this.status, detail: this.detail, ...(instance ? { instance } : {}), ...this.extra };
  }
}

export const validationProblem = (errors: FieldError[]) =>
  new Problem(400, 'invalid-request', 'Your request is not valid', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });

interface ProblemType {
  status: number;
  title: string;
  description: string;
}

const TYPES = {
  'invalid-request': {
    status: 400,
    title: 'Your request is not valid',
    description: 'A field is missing, malformed or out of its limits; `errors` names each one.',
  },
  'invalid-page-token': {
    status: 400,
    title: 'The page token is not valid',
    description: 'page_token must be a next_page_token this API returned to you, unchanged.',
  },
  unauthorized: {
    status: 401,
    title: 'Authentication required',
    description: 'Send Authorization: Bearer <JWT>, signed with the configured key and not expired.',
  },
  forbidden: { status: 403, title: 'Not allowed', description: 'The operation needs the admin role.' },
  'not-found': { status: 404, title: 'Not found', description: 'No such resource, or not yours to see.' },
  'insufficient-stock': { status: 409, title: 'Not enough stock', description: '`products` names each short product with what is available.' },
  'stock-adjustment-refused': {
    status: 409,
    title: 'Not enough stock to remove',
    description: 'A negative delta larger than the available stock; `products` has what is available. Nothing changed.',
  },
  'price-changed': { status: 409, title: 'A price has changed', description: '`current_prices` has the catalog price of each item whose unit_price differed.' },
  'invalid-transition': { status: 409, title: 'Not possible in the order’s state', description: 'The order is in a state that does not allow this change.' },
  'order-expired': { status: 409, title: 'The order expired', description: 'The payment window closed; the stock was released.' },
  'idempotency-key-in-flight': { status: 409, title: 'A request with this key is in progress', description: 'Retry once the first request has finished.' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency key reused', description: 'The key was used before with a different request body.' },
  'unknown-product': { status: 422, title: 'Unknown product', description: '`products` names the products the catalog does not have.' },
  'request-timeout': { status: 408, title: 'Request timeout', description: 'The request did not arrive completely in time.' },
  'uri-too-long': { status: 414, title: 'URI too long', description: 'A path parameter is longer than the gateway accepts (100 characters).' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type', description: 'Send application/json.' },
  'too-many-requests': {
    status: 429,
    title: 'Too many requests',
    description: 'Over your rate limit, or a product is too busy; nothing was changed. Retry after the Retry-After header’s seconds.',
  },
  'headers-too-large': {
    status: 431,
    title: 'Request headers too large',
    description: 'The request headers are larger than the server accepts (16 KiB in all).',
  },
  overloaded: {
    status: 503,
    title: 'Overloaded',
    description: 'The gateway has too many requests in progress; nothing was done. Retry after the Retry-After header’s seconds.',
  },
  unavailable: {
    status: 503,
    title: 'Service unavailable',
    description: 'A service behind the gateway said it cannot do this now (something it depends on is unreachable); nothing was changed. Retry later.',
  },
  'outcome-unknown': {
    status: 503,
    title: 'Outcome unknown',
    description:
      'The call to a service behind the gateway was cut off before it answered (a connection dropped, a process died): ' +
      'the change may have been made. Retry with the same Idempotency-Key, or read the resource, before repeating it without one.',
  },
  timeout: {
    status: 504,
    title: 'Downstream timeout',
    description: 'A service behind the gateway did not answer in time. The outcome is unknown: retry with the same Idempotency-Key.',
  },
  internal: { status: 500, title: 'Internal error', description: 'Something unexpected failed; it was logged.' },
} satisfies Record<string, ProblemType>;

export type ProblemSlug = keyof typeof TYPES;

/** Every problem type the API returns, for GET /problems/{slug} and the OpenAPI description. */
export const PROBLEM_TYPES: Record<string, ProblemType> = TYPES;

const problem = (slug: string, detail: string, extra: Record<string, unknown> = {}) => {
  const type = PROBLEM_TYPES[slug] ?? PROBLEM_TYPES.internal!;
  return new Problem(type.status, PROBLEM_TYPES[slug] ? slug : 'internal', type.title, detail, extra);
};

/** When a downstream gave no reason (or one this gateway does not know yet): gRPC status -> problem type. */
const BY_CODE: Partial<Record<GrpcStatus, ProblemSlug>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 'invalid-request',
  [GrpcStatus.NOT_FOUND]: 'not-found',
  [GrpcStatus.ALREADY_EXISTS]: 'invalid-transition',
  [GrpcStatus.FAILED_PRECONDITION]: 'invalid-transition',
  [GrpcStatus.ABORTED]: 'idempotency-key-in-flight',
  [GrpcStatus.PERMISSION_DENIED]: 'forbidden',
  [GrpcStatus.UNAUTHENTICATED]: 'unauthorized',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'too-many-requests',
  // Without the service's own reason (`unavailable`: nothing changed), the call was cut off: unknown.
  [GrpcStatus.UNAVAILABLE]: 'outcome-unknown',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'timeout',
};

/**
 * The problem type of every reason of the error contract (libs/proto): a reason added there is a
 * compile error here until it has one.
 */
export function problemSlugOf(reason: ErrorReason): ProblemSlug {
  switch (reason) {
    case 'invalid-argument':
      return 'invalid-request';
    case 'invalid-page-token':
    case 'not-found':
    case 'unknown-product':
    case 'insufficient-stock':
    case 'stock-adjustment-refused':
    case 'price-changed':
    case 'invalid-transition':
    case 'order-expired':
    case 'idempotency-key-in-flight':
    case 'idempotency-key-reused':
    case 'forbidden':
    case 'too-many-requests':
    case 'overloaded':
    case 'unavailable':
      return reason;
    // Reasons with no problem type of their own read as their status does.
    case 'reservation-state':
    case 'reservation-mismatch':
      return 'invalid-transition';
    case 'conflict':
      return 'idempotency-key-in-flight';
    case 'permission-denied':
      return 'forbidden';
  }
}

/**
 * The one table from gRPC errors to HTTP problems: the downstream's reason (trailing metadata) first,
 * then its status code. Details the services attach (shortages, prices, field violations) are kept.
 */
export function problemFromGrpc(error: ServiceError): Problem {
  const reason = errorContract.reasonOf(error);
  const slug = (reason && problemSlugOf(reason)) ?? BY_CODE[error.code as GrpcStatus] ?? 'internal';
  const detail = slug === 'internal' ? 'internal error' : error.details || error.message;
  switch (slug) {
    case 'insufficient-stock':
    case 'stock-adjustment-refused':
      return problem(slug, detail, {
        products: errorDetails.readInsufficientStock(error.metadata).map((s) => ({ product_id: s.productId, requested: s.requested, available: s.available })),
      });
    case 'price-changed': {
      // The service's message quotes minor units; the REST detail quotes money as the API does.
      const prices = errorDetails.readPriceChanged(error.metadata).map((p) => ({
        product_id: p.productId,
        unit_price: fromMinorUnits(p.currentUnitPriceMinor),
        requested_unit_price: fromMinorUnits(p.requestedUnitPriceMinor),
      }));
      const quoted = prices.map((p) => `${p.product_id} costs ${p.unit_price.toFixed(2)}, not ${p.requested_unit_price.toFixed(2)}`).join('; ');
      return problem(slug, prices.length > 0 ? `the price changed: ${quoted}` : detail, { current_prices: prices });
    }
    case 'unknown-product':
      return problem(slug, detail, { products: errorDetails.readProductIds(error.metadata) });
    case 'invalid-request': {
      const errors = errorDetails.readFieldViolations(error.metadata).map((v) => ({ field: v.field, message: v.description }));
      return problem(slug, detail, { errors: errors.length > 0 ? errors : [{ field: 'request', message: detail }] });
    }
    default:
      return problem(slug, detail);
  }
}

export function isGrpcError(error: unknown): error is ServiceError {
  return typeof error === 'object' && error !== null && typeof (error as ServiceError).code === 'number' && 'metadata' in error;
}

export { problem };
