import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { type Component, isRequestId, logFormatFor, prettyLogStream, UNARY_FALLBACK_MS } from '@orderflow/service-kit';
import { nameActiveSpan } from '@orderflow/telemetry';
import Ajv from 'ajv';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest, LogController } from 'fastify';
import type { GatewayConfig } from './config';
import { adminRoutes } from './entry-points/http/admin.routes';
import { installAccessControl, registerAuth } from './entry-points/http/auth';
import { installLoadShedding, installRateLimit } from './entry-points/http/backpressure';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandling } from './entry-points/http/error-handler';
import { createMetrics, GatewayMetrics } from './entry-points/http/metrics';
import { opsRoutes } from './entry-points/http/ops.routes';
import { ordersRoutes } from './entry-points/http/orders.routes';
import { productsRoutes } from './entry-points/http/products.routes';
import { enforceRouteContract, finishDocument } from './entry-points/http/route-contract';
import { routeSchemas, sharedSchemas, TAGS } from './entry-points/http/schemas';
import { createRecentWrites } from './domain/recent-writes';
import { createDownstream, Downstream } from './infrastructure/downstream';

export interface Gateway extends Component {
  app: FastifyInstance;
  downstream: Downstream;
  metrics: GatewayMetrics;
  /** The port it listens on, after start(). */
  port: number;
}

/** Node lowercases header names: a headers schema names them as documented (Idempotency-Key), checked lowercased. */
function lowerCaseHeaderNames(schema: { properties?: Record<string, unknown>; required?: string[] } & object) {
  return {
    ...schema,
    ...(schema.properties ? { properties: Object.fromEntries(Object.entries(schema.properties).map(([name, value]) => [name.toLowerCase(), value])) } : {}),
    ...(schema.required ? { required: schema.required.map((name) => name.toLowerCase()) } : {}),
  };
}

/**
 * One line per request, at debug, instead of fastify's two at info ("incoming request", "request completed"): the
 * hot path writes none at info. A failed request is logged once, with its cause, by the error handler; a response
 * that could not be sent stays an error here. Fastify's other lines (404s, its own error handler) are unchanged.
 */
const DEBUG_LEVELS = new Set(['debug', 'trace']);

class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    // No line object is built unless debug is on (the hot path at info builds nothing here).
    else if (DEBUG_LEVELS.has(reply.log.level)) reply.log.debug({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/** Draining ends early once no request came for this long (nothing more to hand a Connection: close). */
const DRAIN_QUIET_MS = 250;

/** Composition root of the REST gateway, shared by main.ts and the tests. */
export async function createGateway(config: GatewayConfig, options: { logDestination?: NodeJS.WritableStream } = {}): Promise<Gateway> {
  const { orderCommand, orderQuery, inventory, deadlineMs, placeOrderBatch } = config.downstream;
  const metrics = createMetrics(async () => {
    const lag = await downstream.projectionLag({}, undefined); // a metrics scrape, not a request
    return { eventsBehind: lag.eventsBehind, secondsBehind: lag.secondsBehind };
  });
  const placementsPerCall = {
    batch: metrics.downstreamBatchSize.labels('PlaceOrder', 'batch'),
    unary: metrics.downstreamBatchSize.labels('PlaceOrder', 'unary'),
  };
  const downstream = createDownstream(
    { orderCommand, orderQuery, inventory },
    {
      deadlineMs,
      placeOrderBatch,
      onPlaceOrderSent: (entries, via) => placementsPerCall[via].observe(entries),
      onPlaceOrderFallback: (err) =>
        app.log.warn({ err }, `order-command does not serve PlaceOrderBatch (an older version): placements go one call each for ${UNARY_FALLBACK_MS / 1000} s`),
    },
  );
  let shuttingDown = false;
  let lastRequestAt = 0;

  const app = Fastify({
    logger: {
      name: 'gateway',
      level: config.logLevel,
      // Request lines carry the headers, with credentials redacted.
      serializers: { req: (req) => ({ method: req.method, url: req.url, headers: req.headers, remoteAddress: req.ip }) },
      redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["idempotency-key"]'],
      // JSON lines, or one readable line per event on a terminal (as every service's createLogger).
      ...(options.logDestination ? { stream: options.logDestination } : logFormatFor() === 'pretty' ? { stream: prettyLogStream() } : {}),
    },
    logController: new RequestLog(),
    bodyLimit: config.http.maxBodyBytes,
    // While draining, a request that still arrives on an open connection is served like any other
    // (fastify's default answered a bare 503: a 5xx per connected client at a graceful restart).
    return503OnClosing: false,
    routerOptions: { maxParamLength: 100 },
    // What fastify and Node's parser refuse themselves (bad URL, long path parameter, huge headers) is problem+json too.
    frameworkErrors: frameworkErrorHandler(config.http.maxBodyBytes),
    clientErrorHandler,
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      // The caller's id when well-formed (the one rule every service applies to x-request-id), else ours.
      return isRequestId(given) ? given : randomUUID();
    },
    // Bodies are validated strictly (a "5" is not a number); path and query strings are coerced.
    ajv: { customOptions: { allErrors: true } },
  });
  const strict = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false });
  const coercing = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, removeAdditional: false, strict: false });
  app.removeContentTypeParser('text/plain'); // JSON only: anything else is 415
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(httpPart === 'headers' ? lowerCaseHeaderNames(schema as object) : schema),
  );

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // Draining: this connection's last answer (the client opens a new one, to another replica).
    lastRequestAt = Date.now();
    if (shuttingDown) reply.header('connection', 'close');
    // The HTTP server span (when tracing is on) is named by route, not by the raw URL with its ids.
    const route = request.routeOptions.url ?? 'unmatched';
    nameActiveSpan(`${request.method} ${route}`, { 'http.route': route, 'orderflow.request_id': request.id });
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  installLoadShedding(app, config.backpressure, metrics);

  for (const schema of sharedSchemas) app.addSchema(schema);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Orderflow API',
        version: '1.0.0',
        description:
          'Orders and products. Money is a decimal with at most 2 places. ' +
          "Errors are RFC 9457 application/problem+json; GET a problem's `type` for what it means. " +
          'Authentication and authorisation come before the body is read: ' +
          'without a token any protected operation is 401, a customer on an admin operation 403. ' +
          `Limits: body ${config.http.maxBodyBytes} bytes, ${config.limits.maxItems} items per order, quantity 1-${config.limits.maxQuantity}, ` +
          `address 1-${config.limits.maxAddressLength} characters, payment_method 1-${config.limits.maxPaymentMethodLength} characters (free text), ` +
          `page_size 1-${config.limits.maxPageSize}, path parameters 100 characters (longer: 414). ` +
          'Backpressure: any request may be refused 429 (over the per-customer rate limit, or a product too busy) ' +
          'or 503 (the gateway overloaded), with Retry-After in seconds; nothing was changed.',
      },
      servers: [{ url: '/', description: 'This gateway' }],
      tags: TAGS,
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'A JWT whose `sub` is the customer id; roles containing "admin" make an admin.',
          },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (document) => finishDocument('openapiObject' in document ? document.openapiObject : document.swaggerObject),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await registerAuth(app, config.jwt);
  installErrorHandling(app, metrics);
  // From here on every route declares config.auth; documented ones get their standard problems.
  enforceRouteContract(app);
  installAccessControl(app);
  installRateLimit(app, config.backpressure, metrics);

  const schemas = routeSchemas(config.limits);
  const recentWrites = createRecentWrites(config.readYourWrites);
  await app.register(ordersRoutes({ downstream, metrics, schemas, recentWrites, readWaitMs: config.readYourWrites.waitMs }));
  await app.register(productsRoutes(downstream, schemas));
  await app.register(adminRoutes(downstream, schemas));
  await app.register(opsRoutes(downstream, metrics, () => shuttingDown));
  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'public', downstream: false } }, async () => app.swagger());

  const gateway: Gateway = {
    name: 'gateway-http',
    app,
    downstream,
    metrics,
    port: 0,
    async start() {
      await app.listen({ host: config.http.host, port: config.http.port });
      const address = app.server.address();
      gateway.port = typeof address === 'object' && address ? address.port : config.http.port;
    },
    async stop() {
      // Readiness goes off first. While requests keep arriving (up to DRAIN_IDLE_MS), each is served
      // and answered with Connection: close, so clients leave this process between requests; closing
      // a keep-alive connection while idle races with the client's next request on it (a reset).
      // Then no new connections, idle ones closed, in-flight requests finish, the channels close.
      shuttingDown = true;
      const until = Date.now() + config.http.drainIdleMs;
      while (Date.now() < until && Date.now() - lastRequestAt < DRAIN_QUIET_MS) await new Promise((r) => setTimeout(r, 50));
      await app.close();
      downstream.close();
    },
  };
  return gateway;
}
