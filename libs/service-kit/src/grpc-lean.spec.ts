import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { grpcChannel, sharedChannel } from './grpc-client';
import { GrpcServer } from './grpc-server';
import { createLogger } from './logger';
import { runInCallContext } from './request-context';
import { unaryCaller } from './unary-client';
import { jsonUnaryMethod } from '../test/json-method';

const definition: grpc.ServiceDefinition = { echo: jsonUnaryMethod('/test.v1.EchoService/Echo') };
type EchoClient = grpc.Client & {
  echo(
    request: object,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: (e: grpc.ServiceError | null, r: object) => void,
  ): grpc.ClientUnaryCall;
};
const EchoClient = grpc.makeGenericClientConstructor(definition, 'EchoService') as unknown as new (
  target: string,
  creds: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
) => EchoClient;

/** What channelz tracks in this process: channels and servers (grpc-js's own channelz service handlers, asked directly). */
async function channelzEntities(): Promise<{ channels: number; servers: number }> {
  const handlers = grpc.getChannelzHandlers();
  const ask = <T>(handler: (call: never, callback: (error: unknown, value: T) => void) => void, request: object) =>
    new Promise<T>((resolve) => handler({ request } as never, (_error, value) => resolve(value)));
  const channels = await ask<{ channel: unknown[] }>(handlers.GetTopChannels as never, { start_channel_id: 0, max_results: 1000 });
  const servers = await ask<{ server: unknown[] }>(handlers.GetServers as never, { start_server_id: 0, max_results: 1000 });
  return { channels: channels.channel.length, servers: servers.server.length };
}

/** The request ids the echo server saw, in order. */
function echoServer(seen: (string | undefined)[]): grpc.UntypedServiceImplementation {
  return {
    echo: (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
      seen.push(call.metadata.get('x-request-id')[0] as string | undefined);
      callback(null, {});
    },
  };
}

describe('gRPC servers and channels without per-call bookkeeping', () => {
  it('when a GrpcServer serves calls from a grpcChannel client, then channelz tracks neither; a default server and channel would be', async () => {
    const before = await channelzEntities();
    const seen: (string | undefined)[] = [];
    const server = new GrpcServer({
      host: '127.0.0.1',
      port: 0,
      services: [{ name: 'test.v1.EchoService', definition, implementation: echoServer(seen) }],
      reflection: {},
      logger: createLogger('test', 'silent'),
    });
    await server.start();
    const { target, options } = grpcChannel(`127.0.0.1:${server.boundPort}`);
    const client = new EchoClient(target, grpc.credentials.createInsecure(), options);
    try {
      const echo = unaryCaller(client, { deadlineMs: 5_000, isCutOff: () => false })('echo', { repeatIfCutOff: true });
      await echo({});
      await runInCallContext({ requestId: 'req-1' }, () => echo({}));
      await echo({}, 'req-2');
      await echo({});
      // The request id still reaches the server; a call without one sends none (the shared empty metadata stays empty).
      expect(seen).toEqual([undefined, 'req-1', 'req-2', undefined]);
      expect(await channelzEntities()).toEqual(before);

      // The control: the same with grpc-js's defaults is tracked (the probe above can see what it looks for).
      const plain = new grpc.Server();
      plain.addService(definition, echoServer([]));
      const port = await new Promise<number>((resolve, reject) =>
        plain.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
      );
      const plainClient = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      await new Promise((resolve, reject) => plainClient.echo({}, new grpc.Metadata(), {}, (e, r) => (e ? reject(e) : resolve(r))));
      expect(await channelzEntities()).toEqual({ channels: before.channels + 1, servers: before.servers + 1 });
      plainClient.close();
      plain.forceShutdown();
    } finally {
      client.close();
      await server.stop(100);
    }
  });

  it('when a GrpcServer is given channelOptions, then they apply over its own: channelz on tracks it, an interceptor given replaces the metrics one', async () => {
    const before = await channelzEntities();
    const intercepted: string[] = [];
    const interceptor: grpc.ServerInterceptor = (descriptor, call) => {
      intercepted.push(descriptor.path);
      return new grpc.ServerInterceptingCall(call);
    };
    const metrics = new Registry();
    const server = new GrpcServer({
      host: '127.0.0.1',
      port: 0,
      services: [{ name: 'test.v1.EchoService', definition, implementation: echoServer([]) }],
      reflection: {},
      logger: createLogger('test', 'silent'),
      metrics,
      channelOptions: { 'grpc.enable_channelz': 1, interceptors: [interceptor] },
    });
    await server.start();
    const { target, options } = grpcChannel(`127.0.0.1:${server.boundPort}`);
    const client = new EchoClient(target, grpc.credentials.createInsecure(), options);
    try {
      await unaryCaller(client, { deadlineMs: 5_000, isCutOff: () => false })('echo', { repeatIfCutOff: false })({});
      expect(intercepted).toEqual(['/test.v1.EchoService/Echo']);
      expect((await metrics.getSingleMetric('orderflow_grpc_server_handled_total')!.get()).values).toEqual([]);
      // The server only: the client's channel keeps LEAN_GRPC_OPTIONS.
      expect(await channelzEntities()).toEqual({ channels: before.channels, servers: before.servers + 1 });
    } finally {
      client.close();
      await server.stop(100);
    }
  });

  it('when another client is made with sharedChannel, then it calls over the first client’s channel (no second channel)', async () => {
    const seen: (string | undefined)[] = [];
    const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
    server.addService(definition, echoServer(seen));
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const { target, options } = grpcChannel(`127.0.0.1:${port}`);
    const first = new EchoClient(target, grpc.credentials.createInsecure(), options);
    const second = new EchoClient(target, grpc.credentials.createInsecure(), sharedChannel(first));
    try {
      expect(second.getChannel()).toBe(first.getChannel());
      await new Promise((resolve, reject) => second.echo({}, new grpc.Metadata(), {}, (e, r) => (e ? reject(e) : resolve(r))));
      expect(seen).toEqual([undefined]);
    } finally {
      first.close();
      server.forceShutdown();
    }
  });
});
