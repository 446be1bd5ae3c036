import { Metadata, Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { errorDetails, orderV1 } from '@orderflow/proto';
import { TcpProxy } from '@orderflow/stack';
import { createGateway, Gateway } from '../src/app';
import { DEV_JWT_SECRET, loadConfig } from '../src/config';
import { signDevToken } from '../src/dev-token';
import { placedOrder } from './support';
import { assertDocumented, openApiResponseChecker } from './openapi-contract';

type Behaviour = 'cut' | 'unavailable' | 'answer';

/** Shared by the replicas: how many more calls are cut off (the processes that die with them). */
const faults = { cutsLeft: 0 };

/**
 * A real gRPC server in order-command's place, reached through a TCP proxy: it answers, says "nothing
 * was changed" (UNAVAILABLE with reason `unavailable`, as order-command's mapper does when a dependency
 * is down before any write), or has its connection cut after the request arrived (as if the process
 * died after storing the order, before answering). Two of them stand for two replicas.
 */
class Replica {
  readonly calls: orderV1.PlaceOrderRequest[] = [];
  behaviour: Behaviour = 'answer';
  private readonly server = new Server();
  proxy!: TcpProxy;

  async start(): Promise<void> {
    const implementation = {
      placeOrder: (call: ServerUnaryCall<orderV1.PlaceOrderRequest, orderV1.PlaceOrderResponse>, callback: sendUnaryData<orderV1.PlaceOrderResponse>) => {
        this.calls.push(call.request);
        if (this.behaviour === 'cut' && faults.cutsLeft > 0) {
          faults.cutsLeft--;
          void this.proxy.cut(); // the answer never leaves
          return;
        }
        if (this.behaviour === 'unavailable') {
          const metadata = new Metadata();
          metadata.set(errorDetails.ERROR_REASON_KEY, 'unavailable');
          callback({ code: status.UNAVAILABLE, details: 'inventory is unavailable', metadata });
          return;
        }
        callback(null, { order: order(call.request), replayed: false });
      },
    };
    this.server.addService(orderV1.OrderCommandServiceService, implementation as never);
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    this.proxy = new TcpProxy({ host: '127.0.0.1', port });
    await this.proxy.start();
  }

  async stop(): Promise<void> {
    await this.proxy.stop();
    this.server.forceShutdown();
  }
}

const order = (request: orderV1.PlaceOrderRequest): orderV1.Order => placedOrder(request, '1234567890');

const body = { items: [{ product_id: 'p-1', quantity: 1, unit_price: 1 }], address: 'A', payment_method: 'card' };

describe('a call to order-command cut off mid-flight (real gRPC servers behind TCP proxies)', () => {
  const replicas = [new Replica(), new Replica()];
  let gateway: Gateway;
  let check: Awaited<ReturnType<typeof openApiResponseChecker>>;
  const token = signDevToken(DEV_JWT_SECRET, 'carol');

  beforeAll(async () => {
    for (const replica of replicas) await replica.start();
    const config = loadConfig({
      GATEWAY_PORT: '0',
      ORDER_COMMAND_ADDRESS: `ipv4:${replicas.map((r) => `127.0.0.1:${r.proxy.port}`).join(',')}`,
      DOWNSTREAM_DEADLINE_MS: '3000',
      LOG_LEVEL: 'silent',
    });
    gateway = await createGateway(config);
    await gateway.start();
    check = await openApiResponseChecker((await (await fetch(`http://127.0.0.1:${gateway.port}/openapi.json`)).json()) as object);
  });
  afterAll(async () => {
    await gateway?.stop();
    for (const replica of replicas) await replica.stop();
  });
  beforeEach(async () => {
    for (const replica of replicas) {
      replica.calls.length = 0;
      replica.behaviour = 'answer';
      await replica.proxy.restore();
    }
  });

  async function post(headers: Record<string, string> = {}) {
    const response = await fetch(`http://127.0.0.1:${gateway.port}/api/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    assertDocumented(check, { method: 'POST', path: '/api/orders', status: response.status, headers: response.headers, text });
    return { status: response.status, body: JSON.parse(text) };
  }

  it('when order-command says a dependency is unavailable, then the answer is 503 unavailable: nothing was changed', async () => {
    for (const replica of replicas) replica.behaviour = 'unavailable';
    const answer = await post();
    expect(answer).toMatchObject({ status: 503, body: { type: '/problems/unavailable' } });
    expect(answer.body.detail).not.toMatch(/unknown/);
  });

  it('when the connection is cut after the request arrived and the client sent no key, then the gateway repeats it under a key of its own on the other replica and answers 201 (no Idempotency-Replayed)', async () => {
    for (const replica of replicas) replica.behaviour = 'cut';
    faults.cutsLeft = 1;
    const response = await fetch(`http://127.0.0.1:${gateway.port}/api/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotency-replayed')).toBeNull();
    expect(replicas.map((r) => r.calls.length)).toEqual([1, 1]);
    const [first, second] = replicas.map((r) => r.calls[0]!.idempotencyKey);
    expect(first).toMatch(/^~gateway:[0-9a-f-]{36}$/);
    expect(second).toBe(first);
    // Both calls say the key is the gateway's own: order-command stores no claim for it.
    expect(replicas.map((r) => r.calls[0]!.idempotencyKeyMadeByGateway)).toEqual([true, true]);
  });

  it('when two placements are sent without a key, then each gets a key of its own', async () => {
    await post();
    await post();
    const keys = replicas.flatMap((r) => r.calls.map((c) => c.idempotencyKey));
    expect(new Set(keys).size).toBe(2);
  });

  it('when the connection is cut after a keyed request arrived, then the gateway repeats it with the key on the other replica and answers 201', async () => {
    for (const replica of replicas) replica.behaviour = 'cut';
    faults.cutsLeft = 1; // whichever replica takes the first call dies with it; the other answers the repeat
    const answer = await post({ 'idempotency-key': 'cut-key-1' });
    expect(answer).toMatchObject({ status: 201, body: { id: '1234567890', status: 'RESERVED' } });
    expect(replicas.map((r) => r.calls.length)).toEqual([1, 1]);
    expect(replicas.map((r) => r.calls[0]!.idempotencyKey)).toEqual(['cut-key-1', 'cut-key-1']);
    // A client's key is never marked as the gateway's: it keeps order-command's claim path.
    expect(replicas.map((r) => r.calls[0]!.idempotencyKeyMadeByGateway ?? false)).toEqual([false, false]);
  });

  it('when a keyed call is cut off and no replica comes back, then it is outcome-unknown (the repeat does not hold it until its deadline)', async () => {
    for (const replica of replicas) replica.behaviour = 'cut';
    faults.cutsLeft = 1;
    await replicas[1]!.proxy.cut(); // the second replica is down already; the first dies with the call
    const answer = await post({ 'idempotency-key': 'cut-key-2' });
    expect(answer).toMatchObject({ status: 503, body: { type: '/problems/outcome-unknown' } });
    expect(replicas.map((r) => r.calls.length)).toEqual([1, 0]);
  });

  it('when every replica cuts the call and the client sent no key, then the answer is outcome-unknown, never "nothing was changed"', async () => {
    for (const replica of replicas) replica.behaviour = 'cut';
    faults.cutsLeft = 2;
    const answer = await post();
    expect(answer).toMatchObject({ status: 503, body: { type: '/problems/outcome-unknown' } });
    expect(answer.body.detail).not.toMatch(/nothing was changed/);
  });
});
