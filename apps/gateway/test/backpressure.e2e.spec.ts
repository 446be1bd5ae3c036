import http from 'node:http';
import { createSequelize } from '@orderflow/database';
import { freePort } from '@orderflow/stack';
import { QueryTypes, Sequelize } from 'sequelize';
import { createGateway, Gateway } from '../src/app';
import { loadConfig } from '../src/config';
import { eventually, HttpResult, startTestSystem, TestSystem } from './support';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Backpressure end to end: the per-customer rate limit and the in-flight bound of the gateway (extra
 * gateways in this process, with tiny settings, in front of the same services), and inventory's bounded
 * Reserve queue seen through REST (the system's own gateway, default limits; inventory's queue bound 1).
 */
describe('backpressure through the REST API (all four services, real servers)', () => {
  let t: TestSystem;
  let admin: string;
  let orderShards: Sequelize[];
  let inventoryDb: Sequelize;
  const gateways: Gateway[] = [];

  beforeAll(async () => {
    t = await startTestSystem({ INVENTORY_MAX_QUEUED_RESERVES: '1', INVENTORY_BATCH_LANES: '1' });
    admin = t.token('ops-admin', { admin: true });
    const connect = (spec: string) => {
      const [, host, port, database] = /^([^:]+):(\d+)\/(.+)$/.exec(spec)!;
      return createSequelize({ host: host!, port: Number(port), user: 'orderflow', password: 'orderflow', database: database! }, { max: 2 });
    };
    orderShards = t.env.ORDER_SHARDS!.split(',').map(connect);
    inventoryDb = connect(`${t.env.INVENTORY_MYSQL_HOST}:${t.env.INVENTORY_MYSQL_PORT}/${t.env.INVENTORY_MYSQL_DATABASE}`);
    expect((await t.http('PUT', '/api/products/bp-hot', { token: admin, body: { name: 'Busy', price: 5, stock: 10_000 } })).status).toBe(201);
  }, 180_000);
  afterAll(async () => {
    for (const g of gateways) await g.stop();
    await Promise.all([...(orderShards ?? []), inventoryDb].filter(Boolean).map((db) => db.close()));
    await t?.stop();
  });

  /** Another gateway, in this process, in front of the same services, with its own settings. */
  async function gateway(env: Record<string, string>) {
    const g = await createGateway(loadConfig({ ...t.env, GATEWAY_PORT: String(await freePort()), LOG_LEVEL: 'silent', ...env }));
    await g.start();
    gateways.push(g);
    const url = `http://127.0.0.1:${g.port}`;
    const call = async (method: string, path: string, token?: string): Promise<HttpResult> => {
      const response = await fetch(`${url}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // metrics are text
      }
      return { status: response.status, headers: response.headers, body };
    };
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await call('GET', '/metrics')).body as string)?.[1] ?? NaN);
    return { g, call, metric };
  }

  const expectRefusal = (r: HttpResult, status: number, type: string) => {
    expect({ status: r.status, contentType: r.headers.get('content-type'), type: r.body?.type, problemStatus: r.body?.status }).toEqual({
      status,
      contentType: expect.stringMatching(/^application\/problem\+json/),
      type,
      problemStatus: status,
    });
    const retryAfter = r.headers.get('retry-after');
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    return Number(retryAfter);
  };

  it('when a customer goes over a tiny rate limit, then it gets 429 problem+json with Retry-After, another customer is not affected, and after waiting Retry-After it succeeds', async () => {
    const { call, metric } = await gateway({ RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '2' });
    const alice = t.token('bp-alice');
    // Six at once against a burst of 2 (one token a second): the first two pass, the others are refused.
    const burst = await Promise.all(Array.from({ length: 6 }, () => call('GET', '/api/orders', alice)));
    const limited = burst.filter((r) => r.status !== 200);
    expect(burst.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(limited.length).toBeGreaterThan(0);
    const retryAfter = Math.max(...limited.map((r) => expectRefusal(r, 429, '/problems/too-many-requests')));
    expect(limited[0]!.body.detail).toMatch(/rate limit/);
    // Another customer has a bucket of its own; a token that does not verify is 401, not counted.
    expect((await call('GET', '/api/orders', t.token('bp-bob'))).status).toBe(200);
    expect((await call('GET', '/api/orders', `${alice}x`)).status).toBe(401);
    expect(await metric('orderflow_http_requests_rate_limited_total')).toBe(limited.length);
    await sleep(retryAfter * 1000);
    expect((await call('GET', '/api/orders', alice)).status).toBe(200);
  }, 60_000);

  it('when the gateway already has MAX_IN_FLIGHT_REQUESTS in progress, then the next request is shed at once with 503 and Retry-After while /healthz, /readyz and /metrics still answer, and it serves again once they end', async () => {
    const { g, call, metric } = await gateway({ MAX_IN_FLIGHT_REQUESTS: '2' });
    const token = t.token('bp-slow');
    // Two requests whose bodies never finish arriving: in progress until their clients go away.
    const held = [0, 1].map(() => {
      const request = http.request({
        host: '127.0.0.1',
        port: g.port,
        method: 'POST',
        path: '/api/orders',
        headers: { 'content-type': 'application/json', 'content-length': '1000', authorization: `Bearer ${token}` },
      });
      request.on('error', () => undefined); // destroyed below
      request.write('{"items":');
      return request;
    });
    try {
      await eventually(async () => ((await metric('orderflow_http_requests_in_flight')) === 2 ? true : undefined), 10_000, 'two requests in flight');
      const shed = await call('GET', '/api/products/bp-hot');
      expect(expectRefusal(shed, 503, '/problems/overloaded')).toBe(1);
      expect((await call('GET', '/api/orders', token)).status).toBe(503);
      expect((await call('GET', '/healthz')).status).toBe(200);
      expect((await call('GET', '/readyz')).status).toBe(200);
      expect(await metric('orderflow_http_requests_shed_total')).toBe(2);
    } finally {
      for (const request of held) request.destroy();
    }
    await eventually(async () => ((await metric('orderflow_http_requests_in_flight')) === 0 ? true : undefined), 10_000, 'no request in flight');
    expect((await call('GET', '/api/products/bp-hot')).status).toBe(200);
  }, 60_000);

  it("when inventory's Reserve queue for a product is full, then placements are refused 429 with Retry-After, a refused placement stores nothing (no order, no key, no stock held), and its retry with the same key succeeds", async () => {
    const order = { items: [{ product_id: 'bp-hot', quantity: 1, unit_price: 5 }], address: 'A', payment_method: 'card' };
    const results = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        t
          .http('POST', '/api/orders', { token: t.token(`bp-buyer-${i}`), body: order, headers: i % 2 ? { 'idempotency-key': `bp-key-${i}` } : {} })
          .then((r) => ({ i, r })),
      ),
    );
    const placed = results.filter(({ r }) => r.status === 201);
    const refused = results.filter(({ r }) => r.status !== 201);
    expect(placed.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const { r } of refused) expectRefusal(r, 429, '/problems/too-many-requests');

    // The source of truth: only the placed orders exist, each once, RESERVED; only their keys; only their stock.
    const rows = (
      await Promise.all(
        orderShards.map((db) =>
          db.query<{ customer_id: string; status: string }>("SELECT customer_id, status FROM orders WHERE customer_id LIKE 'bp-buyer-%'", {
            type: QueryTypes.SELECT,
          }),
        ),
      )
    ).flat();
    expect(rows.map((row) => `${row.customer_id} ${row.status}`).sort()).toEqual(placed.map(({ i }) => `bp-buyer-${i} RESERVED`).sort());
    const keys = (
      await Promise.all(
        orderShards.map((db) =>
          db.query<{ customer_id: string }>("SELECT customer_id FROM idempotency_keys WHERE customer_id LIKE 'bp-buyer-%'", { type: QueryTypes.SELECT }),
        ),
      )
    ).flat();
    // Every placement has a key (the client's, or the gateway's own): one per placed order, none for a refused one.
    expect(keys.map((k) => k.customer_id).sort()).toEqual(placed.map(({ i }) => `bp-buyer-${i}`).sort());
    const stock = async () =>
      (
        await inventoryDb.query<{ available: number; reserved: number; sold: number; received: number }>(
          "SELECT available, reserved, sold, received FROM products WHERE id = 'bp-hot'",
          { type: QueryTypes.SELECT },
        )
      )[0]!;
    expect(await stock()).toEqual({ available: 10_000 - placed.length, reserved: placed.length, sold: 0, received: 10_000 });
    const [reservations] = await inventoryDb.query<{ n: number }>('SELECT COUNT(*) AS n FROM reservations', { type: QueryTypes.SELECT });
    expect(Number(reservations!.n)).toBe(placed.length);

    // A keyed refusal was not stored as the key's answer: its retry after Retry-After places the order.
    const { i, r } = refused.find(({ i }) => i % 2)!;
    await sleep(Number(r.headers.get('retry-after')) * 1000);
    const retried = await t.http('POST', '/api/orders', { token: t.token(`bp-buyer-${i}`), body: order, headers: { 'idempotency-key': `bp-key-${i}` } });
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotency-replayed')).toBeNull();
    expect(await stock()).toMatchObject({ available: 10_000 - placed.length - 1, reserved: placed.length + 1 });
  }, 120_000);
});
