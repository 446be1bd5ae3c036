import type { FastifyError, FastifyInstance } from 'fastify';
import { retryAfterForGrpc } from './backpressure';
import type { GatewayMetrics } from './metrics';
import { FieldError, isGrpcError, Problem, problem, problemFromGrpc, validationProblem } from './problems';

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: { missingProperty?: string; additionalProperty?: string };
}

/** "/items/0/quantity" -> "items[0].quantity"; headers keep their HTTP name. */
function fieldName(path: string, context: string | undefined): string {
  const dotted = path
    .split('/')
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
  if (context === 'headers') return dotted === 'idempotency-key' ? 'Idempotency-Key' : dotted;
  return dotted || (context === 'querystring' ? 'query' : context === 'params' ? 'path' : 'body');
}

function fieldErrors(errors: AjvError[], context: string | undefined): FieldError[] {
  return errors.map((e) => {
    const base = fieldName(e.instancePath, context);
    if (e.keyword === 'required') return { field: base === 'body' ? (e.params.missingProperty as string) : `${base}.${e.params.missingProperty}`, message: 'is required' };
    if (e.keyword === 'additionalProperties') {
      const name = e.params.additionalProperty as string;
      return { field: base === 'body' || base === 'query' ? name : `${base}.${name}`, message: 'is not allowed' };
    }
    return { field: base, message: e.message ?? 'is not valid' };
  });
}

/** The one place errors become problem+json. Bad input is always a 4xx naming the problem; never a 5xx. */
export function installErrorHandling(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.setErrorHandler((raw: unknown, request, reply) => {
    const error = raw as FastifyError & { validation?: AjvError[]; validationContext?: string };
    let result: Problem;
    if (raw instanceof Problem) result = raw;
    else if (error.validation) result = validationProblem(fieldErrors(error.validation, error.validationContext));
    else if (isGrpcError(raw)) {
      result = problemFromGrpc(raw);
      const retryAfter = retryAfterForGrpc(raw);
      if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
      metrics.downstreamErrors.inc({ type: result.slug });
      if (result.status >= 500) request.log.warn({ err: raw, grpcCode: raw.code }, 'downstream error');
    } else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') result = validationProblem([{ field: 'body', message: `is larger than the ${app.initialConfig.bodyLimit} byte limit` }]);
    else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') result = problem('unsupported-media-type', 'send the body as application/json');
    else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      // Malformed JSON, empty body with a JSON content type, bad header values, ...
      result = validationProblem([{ field: 'body', message: error.message }]);
    } else {
      request.log.error({ err: error }, 'unexpected error');
      result = problem('internal', 'internal error');
    }
    return reply.code(result.status).type('application/problem+json').send(result.body(request.url));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).type('application/problem+json').send(problem('not-found', `no route for ${request.method} ${request.url.split('?')[0]}`).body()),
  );
}
