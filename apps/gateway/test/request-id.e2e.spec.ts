import { randomUUID } from 'node:crypto';
import { eventually, startTestSystem, TestSystem } from './support';

type LogLine = { unit: string; line: string; json?: Record<string, unknown> };

/**
 * The four services as processes, their log lines captured (at debug: each gRPC call served is one
 * line): one REST request's X-Request-Id must be on the lines the gateway, order-command and inventory
 * write for it. (The outbox relay and the projection are not in it: the id is not stored with the event.)
 */
describe('x-request-id from the REST request to every service’s log lines (four processes, real servers)', () => {
  const lines: LogLine[] = [];
  let t: TestSystem;

  beforeAll(async () => {
    t = await startTestSystem(
      { LOG_LEVEL: 'debug' },
      {
        onOutput: (unit, line) => {
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(line) as Record<string, unknown>;
          } catch {
            json = undefined; // not a log line
          }
          lines.push({ unit, line, json });
        },
      },
    );
    await t.http('PUT', '/api/products/rid-lamp', { token: t.token('ops-admin', { admin: true }), body: { name: 'Lamp', price: 12.5, stock: 100 } });
  }, 180_000);

  afterAll(async () => {
    await t?.stop();
  });

  const linesOf = (unit: string, requestId: string) => lines.filter((l) => l.unit === unit && l.json?.reqId === requestId).map((l) => l.json!);

  it('when an order is placed with X-Request-Id, then the answer echoes it and the gateway’s, order-command’s and inventory’s log lines carry it', async () => {
    const requestId = `rid-${randomUUID()}`;
    const placed = await t.http('POST', '/api/orders', {
      token: t.token('rid-customer'),
      headers: { 'x-request-id': requestId },
      body: { items: [{ product_id: 'rid-lamp', quantity: 1, unit_price: 12.5 }], address: '1 Log St', payment_method: 'card' },
    });
    expect(placed.status).toBe(201);
    expect(placed.headers.get('x-request-id')).toBe(requestId);

    await eventually(
      async () => (linesOf('inventory', requestId).some((l) => l.method === 'Reserve') ? true : undefined),
      10_000,
      'inventory’s line for Reserve',
    );
    // The gateway writes its line when the response has been sent: it may reach us after the answer.
    await eventually(async () => (linesOf('gateway', requestId).length > 0 ? true : undefined), 10_000, 'the gateway’s line for the request');
    expect(
      linesOf('orderCommand', requestId)
        .filter((l) => l.msg === 'gRPC call')
        .map((l) => [l.method, l.code]),
    ).toEqual([['PlaceOrder', 'OK']]);
    expect(
      linesOf('inventory', requestId)
        .filter((l) => l.msg === 'gRPC call')
        .map((l) => [l.method, l.code]),
    ).toEqual([['Reserve', 'OK']]);
    // Wherever the id shows up, it is the line's reqId (not only somewhere in a message).
    expect(lines.filter((l) => l.line.includes(requestId) && l.json?.reqId !== requestId)).toEqual([]);
  });

  it('when a request has no X-Request-Id, or a malformed one, then the gateway makes one, answers with it and sends it downstream', async () => {
    const malformed = await t.http('GET', '/api/products/rid-lamp', { headers: { 'x-request-id': 'not a request id' } });
    expect(malformed.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const answer = await t.http('GET', '/api/products/rid-lamp');
    expect(answer.status).toBe(200);
    const requestId = answer.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const served = await eventually(
      async () => {
        const found = linesOf('inventory', requestId).filter((l) => l.msg === 'gRPC call');
        return found.length > 0 ? found : undefined;
      },
      10_000,
      'inventory’s line for GetProducts',
    );
    expect(served.map((l) => l.method)).toEqual(['GetProducts']);
  });
});
