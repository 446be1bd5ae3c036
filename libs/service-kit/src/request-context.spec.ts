import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { GrpcServer } from './grpc-server';
import { unaryHandlers } from './grpc-unary';
import type { Logger } from './logger';
import { currentRequestId, requestIdMixin, requestIdOf, runInCallContext } from './request-context';
import { unaryCaller } from './unary-client';
import { jsonUnaryMethod } from '../test/json-method';

type Req = { fail?: boolean };
type Res = { seen?: string; downstreamSeen?: string };
interface RelayClient extends grpc.Client {
  relay(
    request: Req,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: (error: grpc.ServiceError | null, response: Res) => void,
  ): grpc.ClientUnaryCall;
}
const definition: grpc.ServiceDefinition = { relay: jsonUnaryMethod('/test.v1.RelayService/Relay') };
type RelayClientConstructor = new (target: string, creds: grpc.ChannelCredentials) => RelayClient;
const RelayClient = grpc.makeGenericClientConstructor(definition, 'RelayService') as unknown as RelayClientConstructor;

/** Log lines as parsed objects, from a pino logger like createLogger's (with the request id mixin). */
function capturedLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ name: 'test', level: 'debug', mixin: requestIdMixin }, stream), lines };
}

/**
 * A service as the apps build one (GrpcServer + unaryHandlers): Relay logs, waits, and calls the next
 * service (when given) through the unary client, as order-command calls inventory.
 */
async function startRelay(logger: Logger, next?: RelayClient) {
  const handlers = unaryHandlers((error, method) => {
    logger.error({ err: error, method }, 'unexpected error');
    return { code: grpc.status.INTERNAL, details: 'internal error' };
  });
  const call = next && unaryCaller(next, { deadlineMs: 2_000, isCutOff: () => false })('relay', { repeatIfCutOff: false });
  const server = new GrpcServer({
    host: '127.0.0.1',
    port: 0,
    reflection: {},
    logger,
    services: [
      {
        name: 'test.v1.RelayService',
        definition,
        implementation: {
          relay: handlers('Relay', async (request: Req): Promise<Res> => {
            logger.info('handling');
            await new Promise((r) => setTimeout(r, 5));
            if (request.fail) throw new Error('boom');
            return { seen: currentRequestId(), downstreamSeen: call ? (await call({})).seen : undefined };
          }),
        },
      },
    ],
  });
  await server.start();
  return server;
}

const send = (client: RelayClient, request: Req, requestId?: string) =>
  new Promise<Res>((resolve, reject) => {
    const metadata = new grpc.Metadata();
    if (requestId !== undefined) metadata.set('x-request-id', requestId);
    client.relay(request, metadata, { deadline: new Date(Date.now() + 5_000) }, (error, response) => (error ? reject(error) : resolve(response)));
  });

describe('the request id across a gRPC service', () => {
  const edge = capturedLogger();
  const inner = capturedLogger();
  let innerServer: GrpcServer;
  let edgeServer: GrpcServer;
  let innerClient: RelayClient;
  let edgeClient: RelayClient;

  beforeAll(async () => {
    innerServer = await startRelay(inner.logger);
    innerClient = new RelayClient(`127.0.0.1:${innerServer.boundPort}`, grpc.credentials.createInsecure());
    edgeServer = await startRelay(edge.logger, innerClient);
    edgeClient = new RelayClient(`127.0.0.1:${edgeServer.boundPort}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    edgeClient.close();
    innerClient.close();
    await edgeServer.stop(0);
    await innerServer.stop(0);
  });
  beforeEach(() => {
    edge.lines.length = 0;
    inner.lines.length = 0;
  });

  it('when a call comes with x-request-id, then its handler sees it, every line logged for it carries it, and the calls it makes pass it on', async () => {
    expect(await send(edgeClient, {}, 'req-42')).toEqual({ seen: 'req-42', downstreamSeen: 'req-42' });
    for (const lines of [edge.lines, inner.lines]) {
      expect(lines.map((l) => [l.msg, l.reqId])).toEqual([
        ['handling', 'req-42'],
        ['gRPC call', 'req-42'],
      ]);
    }
    expect(edge.lines[1]).toMatchObject({ method: 'Relay', code: 'OK' });
  });

  it('when the handler fails, then the mapper’s line carries the id too', async () => {
    await expect(send(edgeClient, { fail: true }, 'req-43')).rejects.toMatchObject({ code: grpc.status.INTERNAL });
    expect(edge.lines.map((l) => [l.msg, l.reqId])).toEqual([
      ['handling', 'req-43'],
      ['unexpected error', 'req-43'],
      ['gRPC call', 'req-43'],
    ]);
  });

  it('when a call comes without an id, or with one that is not well-formed, then its lines have no reqId and none is passed on', async () => {
    expect(await send(edgeClient, {})).toEqual({});
    expect(await send(edgeClient, {}, 'bad id with spaces')).toEqual({});
    expect([...edge.lines, ...inner.lines].filter((l) => 'reqId' in l)).toEqual([]);
  });

  it('when two calls are served at once, then each line carries its own call’s id', async () => {
    await Promise.all(['a-1', 'b-2', 'c-3'].map((id) => send(edgeClient, {}, id)));
    const handled = edge.lines.filter((l) => l.msg === 'handling').map((l) => l.reqId);
    expect(handled.sort()).toEqual(['a-1', 'b-2', 'c-3']);
  });
});

describe('request id helpers', () => {
  it('when metadata carries an id, then only a well-formed one (1-128 of [A-Za-z0-9._:-]) is taken', () => {
    const of = (value: string) => {
      const metadata = new grpc.Metadata();
      metadata.set('x-request-id', value);
      return requestIdOf(metadata);
    };
    expect(of('trace-123:a.b_c')).toBe('trace-123:a.b_c');
    expect(of('x'.repeat(129))).toBeUndefined();
    expect(of('no spaces')).toBeUndefined();
    expect(requestIdOf(new grpc.Metadata())).toBeUndefined();
  });

  it('when no call is being served, then the mixin adds nothing; inside one, reqId', () => {
    expect(requestIdMixin()).toEqual({});
    runInCallContext({ requestId: 'r1' }, () => expect(requestIdMixin()).toEqual({ reqId: 'r1' }));
    runInCallContext({}, () => expect(requestIdMixin()).toEqual({}));
  });
});
