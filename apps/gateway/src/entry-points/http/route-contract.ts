import type { FastifyInstance, RouteOptions } from 'fastify';

/** Who may call a route: anyone, any authenticated customer, or an admin. */
export type Access = 'public' | 'customer' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route: checked before the body is parsed or validated, and the OpenAPI `security`. */
    auth?: Access;
    /** false for a route that calls no downstream service: it cannot answer 503 or 504. */
    downstream?: boolean;
  }
}

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

interface HeaderDoc {
  type: 'string';
  description: string;
  pattern?: string;
  enum?: string[];
  /** Moved to the header object by `finishDocument` (@fastify/swagger copies these keys into its schema). */
  'x-required'?: boolean;
}

/** Response headers the gateway sends; every response carries X-Request-Id. */
export const RESPONSE_HEADERS = {
  requestId: {
    type: 'string',
    description: 'The request id: the caller’s X-Request-Id when well-formed (1-128 of [A-Za-z0-9._:-]), else a generated UUID.',
    'x-required': true,
  },
  location: { type: 'string', description: 'The new order’s URL (/api/orders/{id}).', pattern: '^/api/orders/[0-9]{1,20}$', 'x-required': true },
  idempotencyReplayed: {
    type: 'string',
    enum: ['true'],
    description: 'Present when this answer is the stored answer to an earlier request with the same Idempotency-Key.',
  },
  retryAfter: { type: 'string', description: 'Seconds to wait before retrying, when the gateway knows.' },
} satisfies Record<string, HeaderDoc>;

type Headers = Record<string, HeaderDoc>;

/** Headers on every response of every route (a header added to all responses, e.g. by a plugin, belongs here). */
export const EVERY_RESPONSE_HEADERS: Headers = { 'X-Request-Id': RESPONSE_HEADERS.requestId };
/** Headers of the standard problem responses, by status. */
const STANDARD_PROBLEM_HEADERS: Record<string, Headers> = {
  429: { 'Retry-After': { ...RESPONSE_HEADERS.retryAfter, 'x-required': true } },
  503: { 'Retry-After': RESPONSE_HEADERS.retryAfter },
};
interface ResponseDoc {
  description: string;
  headers?: Headers;
  content: Record<string, { schema: object }>;
}

/** A success response: `schema` as `mediaType` (application/json unless said), with documented headers. */
export function success(description: string, schema: object, options: { headers?: Headers; mediaType?: string } = {}): ResponseDoc {
  return { description, ...(options.headers ? { headers: options.headers } : {}), content: { [options.mediaType ?? 'application/json']: { schema } } };
}

/** An error response: always RFC 9457 application/problem+json. */
export function problemResponse(description: string, headers?: Headers): ResponseDoc {
  return { description, ...(headers ? { headers } : {}), content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: 'Problem#' } } } };
}

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The problem statuses a route can answer whatever it does, from how it is declared: 400 for any input
 * (path, query, headers or a body), 401/403 from its access, 404 and 414 for a path parameter, 415 for
 * a method with a body, 429, 431 and 500 always, 503/504 when it calls a downstream service.
 */
export function standardProblems(route: { method: string; schema: Record<string, unknown>; auth: Access; downstream: boolean }): Record<number, string> {
  const { schema, auth } = route;
  const hasBody = METHODS_WITH_BODY.has(route.method);
  const out: Record<number, string> = {};
  if (schema.params || schema.querystring || schema.headers || hasBody)
    out[400] = 'invalid-request: a malformed path, query, header or body; `errors` names each field.';
  if (auth !== 'public') out[401] = 'unauthorized: no token, or one that is expired or not signed by the configured key.';
  if (auth === 'admin') out[403] = 'forbidden: the operation needs the admin role (checked before the body is read).';
  if (schema.params) {
    out[404] = 'not-found: no such resource, or not yours to see.';
    out[414] = 'uri-too-long: a path parameter is longer than 100 characters.';
  }
  if (hasBody) out[415] = 'unsupported-media-type: the body is not application/json.';
  out[429] = 'too-many-requests: slow down and retry.';
  out[431] = 'headers-too-large: the request headers are larger than the server accepts (16 KiB in all).';
  out[500] = 'internal: something unexpected failed; it was logged.';
  if (route.downstream) {
    out[503] =
      'unavailable: a service behind the gateway said it cannot do this now; nothing was changed. ' +
      'Or outcome-unknown: the call to it was cut off before it answered; the change may have been made (retry with the same Idempotency-Key).';
    out[504] = 'timeout: a service behind the gateway did not answer in time; the outcome is unknown (retry with the same Idempotency-Key).';
  }
  return out;
}

const DONE = Symbol('route-contract');

/**
 * Every route registered after this declares `config.auth`, and every documented route an operationId,
 * a summary and a tag: a route without them fails at startup. Documented routes get their standard
 * problem responses, `security` from `config.auth`, and EVERY_RESPONSE_HEADERS on every response.
 */
export function enforceRouteContract(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions & { [DONE]?: true }) => {
    if (route[DONE]) return;
    const where = `${String(route.method)} ${route.url}`;
    const auth = route.config?.auth;
    if (auth !== 'public' && auth !== 'customer' && auth !== 'admin') throw new Error(`route ${where}: declare config.auth ('public' | 'customer' | 'admin')`);
    const schema = (route.schema ?? {}) as Record<string, unknown> & { response?: Record<string, ResponseDoc> };
    route[DONE] = true;
    if (schema.hide) return;
    for (const key of ['operationId', 'summary', 'tags'] as const)
      if (!schema[key]) throw new Error(`route ${where}: its schema needs ${key} (it is documented in /openapi.json)`);
    const declared = schema.response ?? {};
    for (const [status, response] of Object.entries(declared)) {
      if (!response.content) throw new Error(`route ${where}: response ${status} must be declared with success() or problemResponse()`);
      if (Number(status) >= 400 && Object.keys(response.content).join() !== PROBLEM_MEDIA_TYPE)
        throw new Error(`route ${where}: response ${status} must be problemResponse() (application/problem+json)`);
    }
    const standard = Object.entries(standardProblems({ method: String(route.method), schema, auth, downstream: route.config?.downstream !== false }));
    const response: Record<string, ResponseDoc> = {};
    const added = standard
      .filter(([status]) => !declared[status])
      .map(([status, text]) => [status, problemResponse(text, STANDARD_PROBLEM_HEADERS[status])] as const);
    for (const [status, doc] of [...Object.entries(declared), ...added]) response[status] = { ...doc, headers: { ...EVERY_RESPONSE_HEADERS, ...doc.headers } };
    const ordered = Object.fromEntries(Object.entries(response).sort(([a], [b]) => Number(a) - Number(b)));
    route.schema = { ...schema, security: auth === 'public' ? [] : [{ bearerAuth: [] }], response: ordered };
  });
}

type Doc = {
  paths?: Record<
    string,
    Record<string, { responses?: Record<string, { headers?: Record<string, { schema?: Record<string, unknown>; required?: boolean }> }> }>
  >;
};

/** The last touch on the generated document: headers marked `x-required` become `required: true`. */
export function finishDocument<T>(document: T): T {
  for (const operations of Object.values((document as Doc).paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const response of Object.values(operation.responses ?? {})) {
        for (const header of Object.values(response.headers ?? {})) {
          if (header.schema?.['x-required']) header.required = true;
          delete header.schema?.['x-required'];
        }
      }
    }
  }
  return document;
}
