import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { errorDetails } from '@orderflow/proto';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../../config';
import { createRateLimiter, retryAfterSeconds } from '../../domain/rate-limiter';
import type { GatewayMetrics } from './metrics';
import { problem } from './problems';

/** Never shed nor limited: probes and the scraper must reach an overloaded gateway. */
const OPS_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/** A shed request's hint: requests finish within the downstream deadline, most far sooner. */
const SHED_RETRY_AFTER_SECONDS = 1;

/** When a RESOURCE_EXHAUSTED from downstream carries no hint. */
const DOWNSTREAM_RETRY_AFTER_MS = 1_000;

/**
 * Overload protection, as the first onRequest work after the request id: at most `maxInFlight`
 * requests in progress (ops routes excluded); beyond, 503 `overloaded` at once, before any work. A
 * request counts until its response is sent or its connection closes.
 */
export function installLoadShedding(app: FastifyInstance, settings: GatewayConfig['backpressure'], metrics: GatewayMetrics): void {
  if (settings.maxInFlight <= 0) return;
  let inFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    if (OPS_ROUTES.has(request.routeOptions.url ?? '')) return;
    if (inFlight >= settings.maxInFlight) {
      metrics.requestsShed.inc();
      reply.header('retry-after', String(SHED_RETRY_AFTER_SECONDS));
      throw problem('overloaded', `the gateway already has ${settings.maxInFlight} requests in progress; nothing was done`);
    }
    inFlight++;
    metrics.requestsInFlight.inc();
    reply.raw.once('close', () => {
      inFlight--;
      metrics.requestsInFlight.dec();
    });
  });
}

/**
 * The per-customer rate limit: a token bucket per customer (the verified token's `sub`), on the routes
 * that authenticate their caller; over it, 429 `too-many-requests` with Retry-After, before the body
 * is read. Installed after access control, whose principal it reads: a request whose token does not
 * verify was already answered 401 and is not counted.
 */
export function installRateLimit(app: FastifyInstance, settings: GatewayConfig['backpressure'], metrics: GatewayMetrics): void {
  if (settings.ratePerSecond <= 0) return;
  const limiter = createRateLimiter({ perSecond: settings.ratePerSecond, burst: settings.rateBurst });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.principal) return;
    const taken = limiter.take(request.principal.customerId);
    if (taken.allowed) return;
    metrics.requestsRateLimited.inc();
    const seconds = retryAfterSeconds(taken.retryAfterMs);
    reply.header('retry-after', String(seconds));
    throw problem(
      'too-many-requests',
      `over the rate limit of ${settings.ratePerSecond} requests per second (bursts of ${settings.rateBurst}); retry in ${seconds} s`,
    );
  });
}

/**
 * Retry-After (seconds) for a downstream refusal that asks the caller to back off: RESOURCE_EXHAUSTED, and
 * an UNAVAILABLE that says when to come back (order-command, while an order's shard bucket is being moved).
 */
export function retryAfterForGrpc(error: ServiceError): number | undefined {
  const hintMs = errorDetails.readRetryAfterMs(error.metadata);
  if (error.code === GrpcStatus.UNAVAILABLE) return hintMs === undefined ? undefined : retryAfterSeconds(hintMs);
  if (error.code !== GrpcStatus.RESOURCE_EXHAUSTED) return undefined;
  return retryAfterSeconds(hintMs ?? DOWNSTREAM_RETRY_AFTER_MS);
}
