import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { errorDetails } from '@orderflow/proto';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../../config';
import { createRateLimiter, retryAfterSeconds } from '../../domain/rate-limiter';
import { authenticate } from './auth';
import type { GatewayMetrics } from './metrics';
import { problem } from './problems';

/** Never shed nor limited: probes and the scraper must reach an overloaded gateway. */
const OPS_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/** A shed request's hint: requests finish within the downstream deadline, most far sooner. */
const SHED_RETRY_AFTER_SECONDS = 1;

/** When a RESOURCE_EXHAUSTED from downstream carries no hint. */
const DOWNSTREAM_RETRY_AFTER_MS = 1_000;

/**
 * Overload protection and the per-customer rate limit, as the first onRequest work after the request id:
 * - at most `maxInFlight` requests in progress (ops routes excluded); beyond, 503 `overloaded` at once.
 *   A request counts until its response is sent or its connection closes;
 * - a token bucket per customer (the verified token's `sub`) on /api routes; over it, 429
 *   `too-many-requests`. A request whose token does not verify is not counted: its route answers 401.
 * Both answer before any work and carry Retry-After (seconds).
 */
export function installBackpressure(app: FastifyInstance, settings: GatewayConfig['backpressure'], metrics: GatewayMetrics): void {
  const limiter = settings.ratePerSecond > 0 ? createRateLimiter({ perSecond: settings.ratePerSecond, burst: settings.rateBurst }) : undefined;
  let inFlight = 0;

  app.addHook('onRequest', async (request, reply) => {
    if (OPS_ROUTES.has(request.routeOptions.url ?? '')) return;

    if (settings.maxInFlight > 0) {
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
    }

    if (limiter && request.headers.authorization && request.url.startsWith('/api/')) {
      let customerId: string;
      try {
        customerId = (await authenticate(request)).customerId;
      } catch {
        return; // the route refuses the token itself (401), or ignores it (public routes)
      }
      const taken = limiter.take(customerId);
      if (!taken.allowed) {
        metrics.requestsRateLimited.inc();
        const seconds = retryAfterSeconds(taken.retryAfterMs);
        reply.header('retry-after', String(seconds));
        throw problem('too-many-requests', `over the rate limit of ${settings.ratePerSecond} requests per second (bursts of ${settings.rateBurst}); retry in ${seconds} s`);
      }
    }
  });
}

/** Retry-After (seconds) for a downstream refusal that asks the caller to back off: RESOURCE_EXHAUSTED. */
export function retryAfterForGrpc(error: ServiceError): number | undefined {
  if (error.code !== GrpcStatus.RESOURCE_EXHAUSTED) return undefined;
  return retryAfterSeconds(errorDetails.readRetryAfterMs(error.metadata) ?? DOWNSTREAM_RETRY_AFTER_MS);
}
