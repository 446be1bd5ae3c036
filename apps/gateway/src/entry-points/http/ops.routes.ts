import type { FastifyInstance } from 'fastify';
import type { Downstream } from '../../infrastructure/downstream';
import type { GatewayMetrics } from './metrics';
import { PROBLEM_TYPES } from './problems';

/** Liveness, readiness (every downstream reachable and SERVING), Prometheus metrics, problem type pages. */
export function opsRoutes(downstream: Downstream, metrics: GatewayMetrics, isShuttingDown: () => boolean) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

    app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
      const checks = await downstream.health();
      const ready = !isShuttingDown() && Object.values(checks).every((s) => s === 'SERVING');
      return reply
        .code(ready ? 200 : 503)
        .type(ready ? 'application/json' : 'application/problem+json')
        .send(ready ? { status: 'ready', checks } : { type: '/problems/unavailable', title: 'Not ready', status: 503, detail: 'a downstream service is not serving', checks });
    });

    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );

    app.get<{ Params: { slug: string } }>('/problems/:slug', { schema: { hide: true } }, async (request, reply) => {
      const type = PROBLEM_TYPES[request.params.slug];
      if (!type) return reply.code(404).type('application/problem+json').send({ type: '/problems/not-found', title: 'Not found', status: 404, detail: 'no such problem type' });
      return { type: `/problems/${request.params.slug}`, ...type };
    });
  };
}
