import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import type { Gateway } from '../src/app';
import { DEV_JWT_SECRET } from '../src/config';
import { signDevToken } from '../src/dev-token';
import { PROBLEM_TYPES } from '../src/entry-points/http/problems';
import { enforceRouteContract, problemResponse, success } from '../src/entry-points/http/route-contract';
import { assertDocumented, openApiResponseChecker } from './openapi-contract';
import { gatewaysAlone } from './support';

const root = path.resolve(__dirname, '../../..');

/**
 * The OpenAPI document held to standard tools (Redocly CLI's linter, openapi-backend's response
 * validation), and what fastify and Node answer themselves. The gateway runs in process with its
 * downstream services unreachable: these answers never need them.
 */
describe('the OpenAPI document and the gateway’s own errors (in process, no downstream)', () => {
  let gateway: Gateway;
  let document: any;
  let check: Awaited<ReturnType<typeof openApiResponseChecker>>;
  let base: string;
  const customer = signDevToken(DEV_JWT_SECRET, 'alice');
  const admin = signDevToken(DEV_JWT_SECRET, 'ops', { admin: true });

  const alone = gatewaysAlone();

  beforeAll(async () => {
    ({ gateway } = await alone({ LOG_LEVEL: 'silent' }));
    base = `http://127.0.0.1:${gateway.port}`;
    document = await (await fetch(`${base}/openapi.json`)).json();
    check = await openApiResponseChecker(document);
  });

  /** A request whose response must match the document. */
  async function call(method: string, url: string, options: { token?: string; body?: string; type?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = options.type ?? 'application/json';
    const response = await fetch(`${base}${url}`, { method, headers, body: options.body });
    const text = await response.text();
    assertDocumented(check, { method, path: url, status: response.status, headers: response.headers, text });
    return { status: response.status, type: response.headers.get('content-type')?.split(';')[0], body: text ? JSON.parse(text) : undefined };
  }

  it('when Redocly CLI lints /openapi.json (recommended rules and ours in redocly.yaml), then it reports no error and no warning', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-')), 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(document));
    const run = spawnSync(path.join(root, 'node_modules/.bin/redocly'), ['lint', file, '--config', path.join(root, 'redocly.yaml'), '--format=json'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      timeout: 60_000,
    });
    const report = JSON.parse(run.stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
    };
    const found = report.problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
    expect(found).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(run.status).toBe(0);
  });

  it('when the document is read, then error responses are problem+json, all responses document X-Request-Id, and security follows each route’s access', () => {
    const security: Record<string, unknown> = {};
    for (const [url, operations] of Object.entries<any>(document.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        security[`${method.toUpperCase()} ${url}`] = operation.security;
        for (const [status, response] of Object.entries<any>(operation.responses)) {
          if (Number(status) >= 400)
            expect([operation.operationId, status, Object.keys(response.content)]).toEqual([operation.operationId, status, ['application/problem+json']]);
          expect([operation.operationId, status, response.headers['X-Request-Id']?.required]).toEqual([operation.operationId, status, true]);
        }
      }
    }
    const bearer = [{ bearerAuth: [] }];
    expect(security).toMatchObject({
      'GET /api/products/{id}': [],
      'PUT /api/products/{id}': bearer,
      'POST /api/orders': bearer,
      'GET /problems/{slug}': [],
      'GET /healthz': [],
    });
    expect(document.paths['/api/orders/{id}/ship'].post.responses).toHaveProperty('403');
    expect(document.paths['/api/orders/{id}/pay'].post.responses).not.toHaveProperty('403');
    expect(document.paths['/api/orders'].post.parameters).toEqual([
      expect.objectContaining({ in: 'header', name: 'Idempotency-Key', schema: expect.objectContaining({ maxLength: 255 }) }),
    ]);
    expect(Object.keys(document.paths['/api/orders'].post.responses['201'].headers).sort()).toEqual(['Idempotency-Replayed', 'Location', 'X-Request-Id']);
  });

  it('when a path parameter is longer than 100 characters, then it is 414 problem+json, as documented', async () => {
    const r = await call('GET', `/api/products/${'a'.repeat(150)}`);
    expect([r.status, r.type, r.body.type]).toEqual([414, 'application/problem+json', '/problems/uri-too-long']);
  });

  it('when a path parameter has a bad percent-encoding, then it is 400 problem+json naming the path, as documented', async () => {
    const r = await call('GET', '/api/products/%zz');
    expect([r.status, r.type, r.body.errors]).toEqual([
      400,
      'application/problem+json',
      [{ field: 'path', message: expect.stringContaining('not a valid URL') }],
    ]);
  });

  it('when the request headers are larger than Node accepts, then it is 431 problem+json', async () => {
    const answer = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const request = http.request(`${base}/api/products/p`, { headers: { 'x-padding': 'a'.repeat(20_000) } }, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, type: String(response.headers['content-type']).split(';')[0]!, body }));
      });
      request.on('error', reject);
      request.end();
    });
    expect([answer.status, answer.type, JSON.parse(answer.body)]).toEqual([
      431,
      'application/problem+json',
      expect.objectContaining({ type: '/problems/headers-too-large', status: 431 }),
    ]);
  });

  it('when an unknown route or a malformed URL is asked, then the answer is a problem+json 4xx', async () => {
    expect((await call('GET', '/api/nothing/here')).status).toBe(404);
    expect((await call('DELETE', '/api/orders')).status).toBe(404);
    expect((await call('GET', '/api/orders/%zz')).status).toBe(400); // not a URL: refused before any route (or its auth) is chosen
  });

  it('when a caller without a token sends a bad body, then it is 401 before any validation', async () => {
    expect((await call('POST', '/api/orders', { body: '{"items": "nope"}' })).status).toBe(401);
    expect((await call('POST', '/api/orders', { body: 'not json' })).status).toBe(401);
    expect((await call('POST', '/api/orders', { body: 'hello', type: 'text/plain' })).status).toBe(401);
    expect((await call('PUT', '/api/products/lamp', { body: '{"price": -1}' })).status).toBe(401);
  });

  it('when a customer sends a bad body to an admin operation, then it is 403 before any validation; an admin gets the 400', async () => {
    expect((await call('PUT', '/api/products/lamp', { token: customer, body: '{"price": -1}' })).status).toBe(403);
    expect((await call('PUT', '/api/products/lamp', { token: customer, body: 'x', type: 'text/plain' })).status).toBe(403);
    expect((await call('POST', '/api/orders/1/ship', { token: customer })).status).toBe(403);
    const bad = await call('PUT', '/api/products/lamp', { token: admin, body: '{"price": -1}' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['name', 'price', 'stock']);
  });

  it('when the Idempotency-Key header is out of its documented limits, then it is 400 naming it, before any downstream call', async () => {
    const body = JSON.stringify({ items: [{ product_id: 'p', quantity: 1, unit_price: 1 }], address: 'A', payment_method: 'card' });
    for (const key of ['x'.repeat(256), 'has space']) {
      const r = await call('POST', '/api/orders', { token: customer, body, headers: { 'Idempotency-Key': key } });
      expect([r.status, r.body.errors]).toEqual([400, [{ field: 'Idempotency-Key', message: expect.any(String) }]]);
    }
  });

  it('when a protected operation passes authentication but nothing is behind the gateway, then it is 503 problem+json, as documented', async () => {
    expect((await call('GET', '/api/orders/1', { token: customer })).status).toBe(503);
    expect((await call('POST', '/api/orders/1/pay', { token: customer })).status).toBe(503);
  });

  it('when each problem type is asked at its /problems/{slug}, then it is described; an unknown slug is 404 problem+json', async () => {
    for (const [slug, type] of Object.entries(PROBLEM_TYPES)) {
      expect((await call('GET', `/problems/${slug}`)).body).toEqual({ type: `/problems/${slug}`, ...type });
    }
    const unknown = await call('GET', '/problems/no-such-type');
    expect([unknown.status, unknown.type]).toEqual([404, 'application/problem+json']);
  });

  it('when the response validator meets an undocumented status, media type or body, then it names the difference', () => {
    const headers = (type: string) => new Headers({ 'content-type': type, 'x-request-id': 'r1' });
    const problem = JSON.stringify({ type: '/problems/not-found', title: 'Not found', status: 404, detail: 'x' });
    expect(check({ method: 'GET', path: '/api/products/p', status: 404, headers: headers('application/problem+json'), text: problem })).toEqual([]);
    expect(check({ method: 'GET', path: '/api/products/p', status: 404, headers: headers('application/json'), text: problem })).toEqual([
      expect.stringContaining('media type application/json is not documented for 404'),
    ]);
    expect(check({ method: 'GET', path: '/api/products/p', status: 409, headers: headers('application/problem+json'), text: problem })).toEqual([
      expect.stringContaining('status 409 is not documented'),
    ]);
    expect(check({ method: 'GET', path: '/api/products/p', status: 200, headers: headers('application/json'), text: '{"id":"p"}' })).toEqual([
      expect.stringContaining("must have required property 'name'"),
    ]);
    const product = '{"id":"p","name":"P","price":1,"available":1}';
    expect(check({ method: 'GET', path: '/api/products/p', status: 200, headers: new Headers({ 'content-type': 'application/json' }), text: product })).toEqual(
      [expect.stringContaining('x-request-id')],
    );
    expect(
      check({
        method: 'GET',
        path: '/api/products/p',
        status: 200,
        headers: new Headers({ 'content-type': 'application/json', 'x-request-id': 'r1', 'x-secret': '1' }),
        text: product,
      }),
    ).toEqual([expect.stringContaining('header x-secret is sent but not documented for 200')]);
  });

  describe('the route contract', () => {
    const build = () => {
      const app = Fastify();
      enforceRouteContract(app);
      return app;
    };
    const documented = { operationId: 'x', summary: 'x', tags: ['x'] };

    it('when a route does not declare config.auth, then registering it fails', () => {
      expect(() => build().get('/x', { schema: documented }, async () => 'x')).toThrow(/config.auth/);
    });

    it('when a documented route has no operationId, then registering it fails', () => {
      expect(() => build().get('/x', { config: { auth: 'public' }, schema: { summary: 'x', tags: ['x'] } }, async () => 'x')).toThrow(/operationId/);
    });

    it('when a route documents an error response that is not problem+json, then registering it fails', () => {
      const response = { 200: success('ok', { type: 'string' }), 409: success('conflict', { type: 'object' }) };
      expect(() => build().get('/x', { config: { auth: 'public' }, schema: { ...documented, response } }, async () => 'x')).toThrow(
        /409 must be problemResponse/,
      );
      expect(() =>
        build().get(
          '/y',
          { config: { auth: 'public' }, schema: { ...documented, response: { 200: success('ok', { type: 'string' }), 409: problemResponse('conflict') } } },
          async () => 'x',
        ),
      ).not.toThrow();
    });
  });
});
