import { randomBytes, randomUUID } from 'node:crypto';
import { OtlpReceiver, ReceivedSpan } from '@orderflow/stack';
import { eventually, startTestSystem, TestSystem } from './support';

const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

/**
 * The four services as processes, exporting spans over OTLP/HTTP JSON to a receiver this test runs on
 * loopback: one order's trace must cross HTTP, gRPC, the outbox table and NATS.
 */
describe('tracing one order across gateway, gRPC, the outbox, NATS and the projection (four processes, real servers)', () => {
  let receiver: OtlpReceiver;
  let t: TestSystem;
  let customer: string;

  beforeAll(async () => {
    receiver = new OtlpReceiver();
    await receiver.start();
    t = await startTestSystem({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    await t.http('PUT', '/api/products/traced-lamp', { token: t.token('ops-admin', { admin: true }), body: { name: 'Lamp', price: 39.9, stock: 1_000 } });
    customer = t.token('tracer');
  }, 180_000);

  afterAll(async () => {
    await t?.stop();
    await receiver?.stop();
  });

  const place = (headers: Record<string, string>) =>
    t.http('POST', '/api/orders', {
      token: customer,
      headers,
      body: { items: [{ product_id: 'traced-lamp', quantity: 1, unit_price: 39.9 }], address: '1 Trace St', payment_method: 'card' },
    });

  /** The whole trace, once the projection's span has arrived (spans are exported in batches). */
  const traceWithProjection = (traceId: string) =>
    eventually(
      async () => {
        const spans = receiver.trace(traceId);
        return spans.some((s) => s.service === 'order-query' && s.kind === CONSUMER) ? spans : undefined;
      },
      30_000,
      `the projection's span in trace ${traceId}`,
    );

  const one = (spans: ReceivedSpan[], what: string, match: (s: ReceivedSpan) => boolean): ReceivedSpan => {
    const found = spans.filter(match);
    if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}: ${JSON.stringify(spans.map((s) => `${s.service} ${s.name}`))}`);
    return found[0]!;
  };

  it('when an order is placed, then the gateway, order-command, inventory, the relay publish and the projection share one trace, parent to child', async () => {
    const requestId = `trace-${randomUUID()}`;
    const placed = await place({ 'x-request-id': requestId });
    expect(placed.status).toBe(201);

    // The gateway's server span carries the request id; its trace is the order's.
    const gatewaySpan = await eventually(
      async () => receiver.spans.find((s) => s.attributes['orderflow.request_id'] === requestId),
      30_000,
      'the gateway span',
    );
    const spans = await traceWithProjection(gatewaySpan.traceId);

    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['gateway', 'order-command', 'inventory', 'order-query']));
    expect(gatewaySpan).toMatchObject({ service: 'gateway', kind: SERVER, name: 'POST /api/orders', parentSpanId: undefined });

    const placeOrder = one(
      spans,
      'PlaceOrder server span',
      (s) => s.service === 'order-command' && s.kind === SERVER && s.name.endsWith('OrderCommandService/PlaceOrder'),
    );
    const reserve = one(spans, 'Reserve server span', (s) => s.service === 'inventory' && s.kind === SERVER && s.name.endsWith('InventoryService/Reserve'));
    const publish = one(spans, 'relay publish span', (s) => s.service === 'order-command' && s.kind === PRODUCER);
    const project = one(spans, 'projection span', (s) => s.service === 'order-query' && s.kind === CONSUMER);

    // gateway -> order-command -> inventory over gRPC (client spans in between).
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const ancestors = (span: ReceivedSpan) => {
      const chain: ReceivedSpan[] = [];
      for (let at = span.parentSpanId && byId.get(span.parentSpanId); at; at = at.parentSpanId && byId.get(at.parentSpanId)) chain.push(at);
      return chain;
    };
    expect(ancestors(placeOrder)).toContain(gatewaySpan);
    expect(ancestors(reserve)).toContain(placeOrder);
    // The outbox row carried PlaceOrder's traceparent to the relay, the NATS headers carried the publish span.
    expect(publish.parentSpanId).toBe(placeOrder.spanId);
    expect(publish.name).toMatch(/^publish .*\.placed$/);
    expect(publish.attributes['messaging.message.id']).toBeTruthy();
    expect(project.parentSpanId).toBe(publish.spanId);
    expect(project.name).toBe(`process ${publish.attributes['messaging.destination.name']}`);
    expect(project.attributes['orderflow.projection.decision']).toBe('insert');
  });

  it('when the client sends a W3C traceparent, then the order joins the trace it names', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const placed = await place({ traceparent: `00-${traceId}-${parentId}-01` });
    expect(placed.status).toBe(201);
    const spans = await traceWithProjection(traceId);
    expect(one(spans, 'gateway span', (s) => s.service === 'gateway' && s.kind === SERVER).parentSpanId).toBe(parentId);
  });

  it('when Prometheus scrapes the gRPC services, then each serves its RPC and business metrics', async () => {
    const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const { orderCommand, orderRelay, inventory, orderQuery } = t.system.metricsPorts;
    expect(await scrape(orderCommand)).toMatch(
      /orderflow_grpc_server_handled_total\{grpc_service="orderflow\.order\.v1\.OrderCommandService",grpc_method="PlaceOrder",grpc_code="OK"\} [1-9]/,
    );
    expect(await scrape(orderRelay)).toMatch(/orderflow_outbox_published_total [1-9]/);
    expect(await scrape(inventory)).toMatch(/orderflow_inventory_reservations_total\{outcome="reserved"\} [1-9]/);
    expect(await scrape(orderQuery)).toMatch(/orderflow_projection_events_total\{result="applied"\} [1-9]/);
    expect((await t.http('GET', '/metrics')).body).toContain('orderflow_http_requests_total');
  });
});
