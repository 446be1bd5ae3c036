import { Writable } from 'node:stream';
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { orderV1 } from '@orderflow/proto';
import { REQUEST_ID_KEY } from '@orderflow/service-kit';
import { createGateway, Gateway } from '../src/app';
import { DEV_JWT_SECRET, loadConfig } from '../src/config';
import { signDevToken } from '../src/dev-token';
import { placedOrder } from './support';

const order = (request: orderV1.PlaceOrderRequest): orderV1.Order => placedOrder(request, `order-${request.idempotencyKey.slice(-12)}`);

/**
 * A rolling upgrade: the gateway gathers placements into PlaceOrderBatch, but the order-command it
 * reaches is an older version that serves PlaceOrder only (a real gRPC server answering UNIMPLEMENTED for
 * the rest). The placements must go through as PlaceOrder calls, each with its request id.
 */
describe('a gateway whose order-command does not know PlaceOrderBatch yet (real gRPC server)', () => {
  const calls: { request: orderV1.PlaceOrderRequest; requestId: string | undefined }[] = [];
  const server = new Server();
  let gateway: Gateway;
  const token = signDevToken(DEV_JWT_SECRET, 'olga');
  let batchAttempts = 0;
  const logLines: string[] = [];
  const logSink = new Writable({ write: (chunk, _encoding, done) => (logLines.push(...String(chunk).split('\n').filter(Boolean)), done()) });

  beforeAll(async () => {
    server.addService(orderV1.OrderCommandServiceService, {
      placeOrder: (call: ServerUnaryCall<orderV1.PlaceOrderRequest, orderV1.PlaceOrderResponse>, callback: sendUnaryData<orderV1.PlaceOrderResponse>) => {
        calls.push({ request: call.request, requestId: call.metadata.get(REQUEST_ID_KEY)[0] as string | undefined });
        callback(null, { order: order(call.request), replayed: false });
      },
    } as never);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    gateway = await createGateway(
      loadConfig({ GATEWAY_PORT: '0', ORDER_COMMAND_ADDRESS: `127.0.0.1:${port}`, DOWNSTREAM_DEADLINE_MS: '3000', LOG_LEVEL: 'warn' }),
      { logDestination: logSink },
    );
    await gateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
    server.forceShutdown();
  });

  const post = (requestId: string) =>
    fetch(`http://127.0.0.1:${gateway.port}/api/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ items: [{ product_id: 'p-1', quantity: 1, unit_price: 1 }], address: 'A', payment_method: 'card' }),
    });
  const placementsPerCall = async (via: 'batch' | 'unary') => {
    const text = await gateway.metrics.registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith(`orderflow_downstream_batch_size_count{method="PlaceOrder",via="${via}"} `));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('when placements are refused as a batch (UNIMPLEMENTED), then each goes as a PlaceOrder call with its request id and is answered 201', async () => {
    const answers = await Promise.all(['fb-1', 'fb-2', 'fb-3'].map(post));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(calls.map((c) => c.requestId).sort()).toEqual(['fb-1', 'fb-2', 'fb-3']);
    expect(new Set(calls.map((c) => c.request.idempotencyKey)).size).toBe(3);
    // Tried as batches first (as many as were sent before the first UNIMPLEMENTED came back).
    batchAttempts = await placementsPerCall('batch');
    expect(batchAttempts).toBeGreaterThanOrEqual(1);
    expect(await placementsPerCall('unary')).toBe(3);
    // An operator is told once, however many batches were refused together.
    const warnings = logLines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((r) => r.msg.includes('PlaceOrderBatch'));
    expect(warnings).toEqual([expect.objectContaining({ level: 40, msg: expect.stringContaining('one call each for 30 s') })]);
  });

  it('when placements come after the fallback, then they go as PlaceOrder calls at once, without trying the batch method again for a while', async () => {
    const answer = await post('fb-4');
    expect(answer.status).toBe(201);
    expect(calls.at(-1)!.requestId).toBe('fb-4');
    expect(await placementsPerCall('batch')).toBe(batchAttempts);
    expect(await placementsPerCall('unary')).toBe(4);
  });
});
