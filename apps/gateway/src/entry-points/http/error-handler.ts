import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { retryAfterForGrpc } from './backpressure';
import type { GatewayMetrics } from './metrics';
import { FieldError, isGrpcError, Problem, problem, problemFromGrpc, validationProblem } from './problems';
import { PROBLEM_MEDIA_TYPE } from './route-contract';

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
    if (e.keyword === 'required')
      return { field: base === 'body' ? (e.params.missingProperty as string) : `${base}.${e.params.missingProperty}`, message: 'is required' };
    if (e.keyword === 'additionalProperties') {
      const name = e.params.additionalProperty as string;
      return { field: base === 'body' || base === 'query' ? name : `${base}.${name}`, message: 'is not allowed' };
    }
    return { field: base, message: e.message ?? 'is not valid' };
  });
}

/**
 * The one mapper from an error to a problem: ours, validation, downstream gRPC, and fastify's own
 * (bad URL, long path parameter, body too large, wrong media type, malformed JSON). Bad input is always
 * a 4xx naming the problem; never a 5xx.
 */
export function toProblem(raw: unknown, bodyLimit: number): Problem {
  const error = raw as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (raw instanceof Problem) return raw;
  if (error.validation) return validationProblem(fieldErrors(error.validation, error.validationContext));
  if (isGrpcError(raw)) return problemFromGrpc(raw);
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return validationProblem([{ field: 'path', message: 'is not a valid URL (bad percent-encoding)' }]);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return problem('uri-too-long', 'a path parameter is longer than 100 characters');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return validationProblem([{ field: 'body', message: `is larger than the ${bodyLimit} byte limit` }]);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('unsupported-media-type', 'send the body as application/json');
  }
  // Malformed JSON, empty body with a JSON content type, bad header values, ...
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return validationProblem([{ field: 'body', message: error.message }]);
  return problem('internal', 'internal error');
}

function sendProblem(request: FastifyRequest, reply: FastifyReply, result: Problem) {
  return reply.code(result.status).header('x-request-id', request.id).type(PROBLEM_MEDIA_TYPE).send(result.body(request.url));
}

/** Fastify's `frameworkErrors` option: errors raised before routing (bad URL, long path parameter) take the same path. */
export function frameworkErrorHandler(bodyLimit: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => sendProblem(request, reply, toProblem(error, bodyLimit));
}

const CLIENT_ERRORS: Record<string, { slug: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: { slug: 'headers-too-large', detail: 'the request headers are larger than the server accepts' },
  ERR_HTTP_REQUEST_TIMEOUT: { slug: 'request-timeout', detail: 'the request did not arrive in time' },
};

/**
 * Fastify's `clientErrorHandler` option: what Node's HTTP parser refuses before fastify sees a request
 * (431 for huge headers, 408, malformed HTTP) is answered as problem+json too, then the connection closes.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const known = error.code ? CLIENT_ERRORS[error.code] : undefined;
  const result = known ? problem(known.slug, known.detail) : validationProblem([{ field: 'request', message: 'is not valid HTTP' }]);
  const body = JSON.stringify(result.body());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${result.status} ${STATUS_CODES[result.status]}\r\nContent-Type: ${PROBLEM_MEDIA_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** The one place errors become problem+json responses: route errors, unknown routes. */
export function installErrorHandling(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.setErrorHandler((raw: unknown, request, reply) => {
    const result = toProblem(raw, app.initialConfig.bodyLimit ?? 0);
    if (isGrpcError(raw)) {
      const retryAfter = retryAfterForGrpc(raw);
      if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
      metrics.downstreamErrors.inc({ type: result.slug });
      if (result.status >= 500) request.log.warn({ err: raw, grpcCode: raw.code }, 'downstream error');
    } else if (!(raw instanceof Problem) && result.status >= 500) {
      // Ours (503 not ready, overloaded) are answers, not faults.
      request.log.error({ err: raw }, 'unexpected error');
    }
    return sendProblem(request, reply, result);
  });

  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, problem('not-found', `no route for ${request.method} ${request.url.split('?')[0]}`)));
}
