import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { GrpcServer } from './grpc-server';
import { grpcServerMetrics, splitMethodPath } from './grpc-metrics';
import { createLogger } from './logger';
import { jsonUnaryMethod } from '../test/json-method';

const definition: grpc.ServiceDefinition = { echo: jsonUnaryMethod('/test.v1.EchoService/Echo') };
const EchoClient = grpc.makeGenericClientConstructor(definition, 'EchoService');

type Echo = { reply?: 'ok' | 'not-found' | 'throw' | 'slow' };
const implementation: grpc.UntypedServiceImplementation = {
  echo: (call: grpc.ServerUnaryCall<Echo, Echo>, callback: grpc.sendUnaryData<Echo>) => {
    const reply = call.request.reply ?? 'ok';
    if (reply === 'ok') return callback(null, { reply });
    if (reply === 'not-found') return callback({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
    if (reply === 'slow') return void setTimeout(() => callback(null, { reply }), 300);
    throw new Error('handler bug');
  },
};

function call(client: grpc.Client, request: Echo, deadlineMs = 5_000): Promise<grpc.status> {
  return new Promise((resolve) =>
    (client as unknown as { echo: (r: Echo, o: object, cb: (e: grpc.ServiceError | null) => void) => void }).echo(
      request,
      { deadline: new Date(Date.now() + deadlineMs) },
      (error) => resolve(error ? error.code : grpc.status.OK),
    ),
  );
}

async function counts(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('orderflow_grpc_server_handled_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [`${v.labels.grpc_service}/${v.labels.grpc_method} ${v.labels.grpc_code}`, v.value]));
}

async function observations(registry: Registry, method: string): Promise<number> {
  const metric = await registry.getSingleMetric('orderflow_grpc_server_handling_seconds')!.get();
  return (
    metric.values.find((v) => (v as { metricName?: string }).metricName === 'orderflow_grpc_server_handling_seconds_count' && v.labels.grpc_method === method)
      ?.value ?? 0
  );
}

describe('grpcServerMetrics', () => {
  let server: grpc.Server;
  let client: grpc.Client;
  let registry: Registry;

  beforeAll(async () => {
    registry = new Registry();
    server = new grpc.Server({ interceptors: [grpcServerMetrics(registry)] });
    server.addService(definition, implementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  it('when unary calls succeed or fail, then each is counted under its status code name and timed', async () => {
    expect(await call(client, { reply: 'ok' })).toBe(grpc.status.OK);
    expect(await call(client, { reply: 'ok' })).toBe(grpc.status.OK);
    expect(await call(client, { reply: 'not-found' })).toBe(grpc.status.NOT_FOUND);
    expect(await call(client, { reply: 'throw' })).toBe(grpc.status.UNKNOWN);

    expect(await counts(registry)).toEqual({
      'test.v1.EchoService/Echo OK': 2,
      'test.v1.EchoService/Echo NOT_FOUND': 1,
      'test.v1.EchoService/Echo UNKNOWN': 1,
    });
    expect(await observations(registry, 'Echo')).toBe(4);
  });

  it('when the client deadline passes before the handler answers, then the call counts as DEADLINE_EXCEEDED, once', async () => {
    expect(await call(client, { reply: 'slow' }, 50)).toBe(grpc.status.DEADLINE_EXCEEDED);
    await new Promise((resolve) => setTimeout(resolve, 400)); // the handler's late answer goes nowhere
    expect((await counts(registry))['test.v1.EchoService/Echo DEADLINE_EXCEEDED']).toBe(1);
    expect(await observations(registry, 'Echo')).toBe(5);
  });
});

describe('GrpcServer with a metrics registry', () => {
  it('when a standard health check is called, then it is counted like any unary call', async () => {
    const registry = new Registry();
    const server = new GrpcServer({ host: '127.0.0.1', port: 0, services: [], reflection: {}, logger: createLogger('test', 'silent'), metrics: registry });
    await server.start();
    // An empty HealthCheckRequest is zero bytes of protobuf; the answer is not decoded here.
    const empty = { ...jsonUnaryMethod('/grpc.health.v1.Health/Check'), requestSerialize: () => Buffer.alloc(0), responseDeserialize: () => ({}) };
    const Health = grpc.makeGenericClientConstructor({ check: empty }, 'Health');
    const health = new Health(`127.0.0.1:${server.boundPort}`, grpc.credentials.createInsecure());
    try {
      const code = await new Promise<grpc.status>((resolve) =>
        (health as unknown as { check: (r: object, cb: (e: grpc.ServiceError | null) => void) => void }).check({}, (error) =>
          resolve(error ? error.code : grpc.status.OK),
        ),
      );
      expect(code).toBe(grpc.status.OK);
      expect(await counts(registry)).toEqual({ 'grpc.health.v1.Health/Check OK': 1 });
    } finally {
      health.close();
      await server.stop(100);
    }
  });
});

describe('splitMethodPath', () => {
  it('when given a gRPC method path, then it names the service and the method', () => {
    expect(splitMethodPath('/orderflow.inventory.v1.InventoryService/Reserve')).toEqual({
      service: 'orderflow.inventory.v1.InventoryService',
      method: 'Reserve',
    });
    expect(splitMethodPath('weird')).toEqual({ service: 'unknown', method: 'weird' });
  });
});
