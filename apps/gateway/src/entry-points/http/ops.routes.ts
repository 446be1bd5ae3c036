import type { FastifyInstance } from 'fastify';
import type { Downstream } from '../../infrastructure/downstream';
import type { GatewayMetrics } from './metrics';
import { PROBLEM_TYPES, problem } from './problems';
import { problemResponse, success } from './route-contract';

const operations = { tags: ['operations'] };

/** Liveness, readiness (every downstream reachable and SERVING), Prometheus metrics, problem type pages. */
export function opsRoutes(downstream: Downstream, metrics: GatewayMetrics, isShuttingDown: () => boolean) {
  return async (app: FastifyInstance) => {
    app.get(
      '/healthz',
      {
        config: { auth: 'public', downstream: false },
        schema: {
          ...operations,
          operationId: 'getLiveness',
          summary: 'Liveness: the gateway process answers',
          response: { 200: success('Alive.', { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] }) },
        },
      },
      async () => ({ status: 'ok' }),
    );

    app.get(
      '/readyz',
      {
        config: { auth: 'public', downstream: false },
        schema: {
          ...operations,
          operationId: 'getReadiness',
          summary: 'Readiness: every downstream service answers SERVING to the standard gRPC health check',
          response: {
            200: success('Ready.', {
              type: 'object',
              properties: { status: { type: 'string', enum: ['ready'] }, checks: { type: 'object', additionalProperties: { type: 'string' } } },
              required: ['status', 'checks'],
            }),
            503: problemResponse('unavailable: shutting down, or a downstream service is not SERVING; `checks` has each one’s state.'),
          },
        },
      },
      async (_request, reply) => {
        const checks = await downstream.health();
        if (isShuttingDown() || !Object.values(checks).every((s) => s === 'SERVING')) {
          throw problem('unavailable', isShuttingDown() ? 'the gateway is shutting down' : 'a downstream service is not serving', { checks });
        }
        return reply.send({ status: 'ready', checks });
      },
    );

    app.get(
      '/metrics',
      {
        config: { auth: 'public', downstream: false },
        schema: {
          ...operations,
          operationId: 'getMetrics',
          summary: 'Prometheus metrics (text exposition format)',
          response: { 200: success('The metrics.', { type: 'string' }, { mediaType: 'text/plain' }) },
        },
      },
      async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.text()),
    );

    app.get<{ Params: { slug: string } }>(
      '/problems/:slug',
      {
        config: { auth: 'public', downstream: false },
        schema: {
          tags: ['problems'],
          operationId: 'getProblemType',
          summary: 'What a problem type means (the `type` of an error response)',
          description: `The types: ${Object.keys(PROBLEM_TYPES).join(', ')}. Another slug is 404.`,
          params: { type: 'object', properties: { slug: { type: 'string', pattern: '^[a-z-]{1,64}$' } }, required: ['slug'] },
          response: { 200: success('The problem type.', { $ref: 'ProblemType#' }) },
        },
      },
      async (request) => {
        const type = Object.hasOwn(PROBLEM_TYPES, request.params.slug) ? PROBLEM_TYPES[request.params.slug] : undefined;
        if (!type) throw problem('not-found', `no problem type ${request.params.slug}`);
        return { type: `/problems/${request.params.slug}`, ...type };
      },
    );
  };
}
