import {
  type CallOptions,
  type Client,
  type ClientUnaryCall,
  credentials,
  makeGenericClientConstructor,
  Metadata,
  Server,
  ServerCredentials,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { jsonUnaryMethod } from '../test/json-method';
import { batchingCaller, UNARY_FALLBACK_MS, type UnaryFallbackName } from './batch-client';
import { batchHandler, type BatchRequest, type BatchResponse } from './batch-server';
import { currentDeadline, runWithDeadline } from './deadlines';
import { grpcServerMetrics } from './grpc-metrics';
import { unaryHandlers } from './grpc-unary';
import { currentRequestId } from './request-context';
import { unaryCaller } from './unary-client';

type Echo = { n: number; wait?: number };
type Echoed = { n: number; requestId: string | null; deadline: number | null };
type Callback<Res> = (error: ServiceError | null, response: Res) => void;
interface EchoClient extends Client {
  echo(request: Echo, metadata: Metadata, options: Partial<CallOptions>, callback: Callback<Echoed>): ClientUnaryCall;
  echoBatch(request: BatchRequest<Echo>, metadata: Metadata, options: Partial<CallOptions>, callback: Callback<BatchResponse<Echoed>>): ClientUnaryCall;
}

const definition = { echo: jsonUnaryMethod('/test.Echo/Echo'), echoBatch: jsonUnaryMethod('/test.Echo/EchoBatch') };
const isCutOff = (error: unknown) => (error as ServiceError).code === status.UNAVAILABLE && (error as ServiceError).metadata?.get('reason').length === 0;

/** Odd numbers are refused with a reason and a binary detail in trailing metadata, as the services' error mappers do. */
const refusal = (n: number): Partial<ServiceError> => {
  const metadata = new Metadata();
  metadata.set('reason', 'odd');
  metadata.set('detail-bin', Buffer.from([n, 0, 255]));
  return { code: status.FAILED_PRECONDITION, details: `${n} is odd`, metadata };
};

async function echoServer({ knowsBatch = true } = {}) {
  const batches: number[] = [];
  const unaryCalls: (string | undefined)[] = [];
  const registry = new Registry();
  const server = new Server({ interceptors: [grpcServerMetrics(registry)] });
  const unary = unaryHandlers((error) => (error as { refusal: Partial<ServiceError> }).refusal);
  const echo = unary('Echo', async ({ n, wait }: Echo): Promise<Echoed> => {
    if (wait) await new Promise((r) => setTimeout(r, wait));
    if (n % 2 === 1) throw { refusal: refusal(n) };
    return { n, requestId: currentRequestId() ?? null, deadline: currentDeadline()?.getTime() ?? null };
  });
  const echoBatch = batchHandler(echo, { metrics: registry });
  // Without echoBatch the server answers it UNIMPLEMENTED, as an older version of a service does.
  server.addService(definition, {
    echo: (call: Parameters<typeof echo>[0], callback: Parameters<typeof echo>[1]) => {
      unaryCalls.push(call.metadata.get('x-request-id')[0] as string | undefined);
      echo(call, callback);
    },
    ...(knowsBatch
      ? {
          echoBatch: (call: Parameters<typeof echoBatch>[0], callback: Parameters<typeof echoBatch>[1]) => {
            batches.push(call.request.entries.length);
            echoBatch(call, callback);
          },
        }
      : {}),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const client = new (makeGenericClientConstructor(definition, 'Echo'))(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as EchoClient;
  return {
    batches,
    unaryCalls,
    registry,
    client,
    close() {
      client.close();
      server.forceShutdown();
    },
  };
}

describe('batch calls (batchingCaller, batchHandler)', () => {
  it('when calls are made together, then they travel in one batch call and each gets its own answer, in order', async () => {
    const s = await echoServer();
    try {
      const echo = batchingCaller(s.client, { deadlineMs: 5_000, isCutOff, lingerMs: 0, maxEntries: 100 })('echoBatch', { repeatIfCutOff: true });
      const answers = await Promise.all([0, 2, 4, 6].map((n) => echo({ n, wait: 10 - n }, `req-${n}`)));
      expect(answers.map((a) => [a.n, a.requestId])).toEqual([
        [0, 'req-0'],
        [2, 'req-2'],
        [4, 'req-4'],
        [6, 'req-6'],
      ]);
      expect(s.batches).toEqual([4]);
      // Typed by the batch method's entries: a method that is no batch method does not compile.
      // @ts-expect-error echo is a unary method, not a batch method
      void (() => batchingCaller(s.client, { deadlineMs: 1, isCutOff, lingerMs: 0, maxEntries: 1 })('echo', { repeatIfCutOff: false }));
      // Each entry's deadline reaches its handler: about 5 s from when it was made (sent as a relative timeout).
      for (const a of answers) expect(Math.abs(a.deadline! - (Date.now() + 5_000))).toBeLessThan(1_000);
      // A lone call goes at once, in a batch of one.
      await echo({ n: 8 });
      expect(s.batches).toEqual([4, 1]);
    } finally {
      s.close();
    }
  });

  it('when one entry fails, then only its caller sees the error, with the code, message and metadata the unary call fails with', async () => {
    const s = await echoServer();
    try {
      const options = { deadlineMs: 5_000, isCutOff, lingerMs: 0, maxEntries: 100 };
      const batched = batchingCaller(s.client, options)('echoBatch', { repeatIfCutOff: true });
      const single = unaryCaller(s.client, options)('echo', { repeatIfCutOff: true });
      const outcomes = await Promise.allSettled([2, 3, 4].map((n) => batched({ n })));
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const viaBatch = (outcomes[1] as PromiseRejectedResult).reason as ServiceError;
      const viaUnary = (await single({ n: 3 }).catch((e: unknown) => e)) as ServiceError;
      expect({ code: viaBatch.code, details: viaBatch.details }).toEqual({ code: viaUnary.code, details: viaUnary.details });
      expect(viaBatch.metadata.get('reason')).toEqual(['odd']);
      expect(viaBatch.metadata.get('detail-bin')).toEqual([Buffer.from([3, 0, 255])]);
      expect(viaBatch.metadata.get('detail-bin')).toEqual(viaUnary.metadata.get('detail-bin'));
    } finally {
      s.close();
    }
  });

  it('when more calls come than a batch holds, or across a linger, then they are split at maxEntries and gathered within the linger', async () => {
    const s = await echoServer();
    try {
      const split = batchingCaller(s.client, { deadlineMs: 5_000, isCutOff, lingerMs: 0, maxEntries: 3 })('echoBatch', { repeatIfCutOff: false });
      await Promise.all([0, 2, 4, 6, 8, 10, 12].map((n) => split({ n })));
      expect(s.batches).toEqual([3, 3, 1]);
      s.batches.length = 0;
      const lingering = batchingCaller(s.client, { deadlineMs: 5_000, isCutOff, lingerMs: 30, maxEntries: 100 })('echoBatch', { repeatIfCutOff: false });
      const first = lingering({ n: 0 });
      await new Promise((r) => setTimeout(r, 5));
      await Promise.all([first, lingering({ n: 2 })]);
      expect(s.batches).toEqual([2]);
    } finally {
      s.close();
    }
  });

  it('when the calls of one batch have different deadlines, then each entry is served under its own', async () => {
    const s = await echoServer();
    try {
      const make = (deadlineMs: number) =>
        batchingCaller(s.client, { deadlineMs, isCutOff, lingerMs: 0, maxEntries: 100 })('echoBatch', { repeatIfCutOff: false });
      // The server's handler sees each entry's own deadline, so a use case that honours it stops in time.
      const [short, long] = await Promise.all([make(200)({ n: 0 }), make(5_000)({ n: 2 })]);
      expect(short.deadline! - Date.now()).toBeLessThan(300);
      expect(long.deadline! - Date.now()).toBeGreaterThan(4_000);
    } finally {
      s.close();
    }
  });

  it('when an entry’s own deadline passes while its batch still runs, then its caller gets DEADLINE_EXCEEDED at that deadline and the neighbour its answer', async () => {
    const s = await echoServer();
    try {
      const echo = batchingCaller(s.client, { deadlineMs: 5_000, isCutOff, lingerMs: 0, maxEntries: 100 })('echoBatch', { repeatIfCutOff: false });
      const started = Date.now();
      // The short one is served (its handler ignores its deadline) but answered only with its slow neighbour.
      const [short, long] = await Promise.allSettled([runWithDeadline(new Date(started + 150), () => echo({ n: 0, wait: 600 })), echo({ n: 2, wait: 600 })]);
      expect(short).toMatchObject({ status: 'rejected', reason: { code: status.DEADLINE_EXCEEDED } });
      expect(long).toMatchObject({ status: 'fulfilled', value: { n: 2 } });
      expect(s.batches).toEqual([2]);
    } finally {
      s.close();
    }
  });

  it('when a repeatable batch call is cut off, then it is made once more; an entry answered as cut off is made once more alone', async () => {
    const sent: number[][] = [];
    const outcomes: ('cut' | 'entry-cut' | 'ok')[] = ['cut', 'entry-cut', 'ok'];
    const cut = () => Object.assign(new Error('cut'), { code: status.UNAVAILABLE, details: 'cut', metadata: new Metadata() }) as ServiceError;
    const client = {
      echoBatch(request: BatchRequest<Echo>, _m: Metadata, _o: Partial<CallOptions>, callback: Callback<BatchResponse<Echoed>>) {
        sent.push(request.entries.map((e) => e.request!.n));
        const outcome = outcomes.shift() ?? 'ok';
        const ok = (n: number) => ({ status: { code: 0, message: '', metadata: [] }, response: { n, requestId: null, deadline: null } });
        setImmediate(() =>
          outcome === 'cut'
            ? callback(cut(), { results: [] })
            : callback(null, {
                results: request.entries.map((e, i) =>
                  outcome === 'entry-cut' && i === 0 ? { status: { code: status.UNAVAILABLE, message: 'gone', metadata: [] } } : ok(e.request!.n),
                ),
              }),
        );
      },
      waitForReady: (_d: Date, callback: (error?: Error) => void) => setImmediate(() => callback()),
      close() {},
    } as unknown as EchoClient;
    const echo = batchingCaller(client, { deadlineMs: 5_000, isCutOff, lingerMs: 0, maxEntries: 100 })('echoBatch', { repeatIfCutOff: true });
    const answers = await Promise.all([echo({ n: 1 }), echo({ n: 2 })]);
    expect(answers.map((a) => a.n)).toEqual([1, 2]);
    expect(sent).toEqual([[1, 2], [1, 2], [1]]);
  });

  it('when the server does not know the batch method (UNIMPLEMENTED), then the calls go as unary calls, and later ones at once for a while', async () => {
    const s = await echoServer({ knowsBatch: false });
    try {
      const sent: [number, string][] = [];
      const onSend = (entries: number, via: 'batch' | 'unary') => sent.push([entries, via]);
      const fallbacks: ServiceError[] = [];
      const onFallback = (error: ServiceError) => fallbacks.push(error);
      const echo = batchingCaller(s.client, { deadlineMs: 5_000, isCutOff, lingerMs: 0, maxEntries: 100, onSend, onFallback })('echoBatch', {
        repeatIfCutOff: true,
        unaryFallback: 'echo',
      });
      const answers = await Promise.allSettled([0, 1, 2].map((n) => echo({ n }, `fb-${n}`)));
      expect(answers.map((a) => (a.status === 'fulfilled' ? a.value.requestId : ((a.reason as ServiceError).code as unknown)))).toEqual([
        'fb-0',
        status.FAILED_PRECONDITION, // the unary call's own refusal
        'fb-2',
      ]);
      expect(sent).toEqual([
        [3, 'batch'],
        [1, 'unary'],
        [1, 'unary'],
        [1, 'unary'],
      ]);
      await echo({ n: 4 }, 'fb-4');
      expect(sent.at(-1)).toEqual([1, 'unary']);
      expect(s.unaryCalls).toEqual(['fb-0', 'fb-1', 'fb-2', 'fb-4']);
      // Told once, when the fallback started, with the batch call's error.
      expect(fallbacks.map((e) => e.code)).toEqual([status.UNIMPLEMENTED]);
      // The fallback must take and answer what the entries do: a batch method is no fallback.
      const fallback: UnaryFallbackName<EchoClient, 'echoBatch'> = 'echo';
      // @ts-expect-error echoBatch's request is not an entry's
      const notAFallback: UnaryFallbackName<EchoClient, 'echoBatch'> = 'echoBatch';
      void [fallback, notAFallback];
      // Without a fallback, the batch call's UNIMPLEMENTED is every caller's answer.
      const strict = batchingCaller(s.client, { deadlineMs: 5_000, isCutOff, lingerMs: 0, maxEntries: 100 })('echoBatch', { repeatIfCutOff: true });
      expect(((await strict({ n: 0 }).catch((e: unknown) => e)) as ServiceError).code).toBe(status.UNIMPLEMENTED);
    } finally {
      s.close();
    }
  });

  it('when the fallback window has passed, then the batch method is tried again, and onFallback is told once per window, however many batches failed', async () => {
    const s = await echoServer({ knowsBatch: false });
    const now = jest.spyOn(Date, 'now');
    try {
      const sent: [number, string][] = [];
      const fallbacks: ServiceError[] = [];
      const options = { deadlineMs: 5_000, isCutOff, lingerMs: 0, maxEntries: 1 };
      const echo = batchingCaller(s.client, { ...options, onSend: (n, via) => sent.push([n, via]), onFallback: (e) => fallbacks.push(e) })('echoBatch', {
        repeatIfCutOff: true,
        unaryFallback: 'echo',
      });
      // Three batch calls of one in flight at once, all answered UNIMPLEMENTED: one window, one warning.
      await Promise.all([0, 2, 4].map((n) => echo({ n })));
      expect(sent.filter(([, via]) => via === 'batch')).toHaveLength(3);
      expect(fallbacks).toHaveLength(1);
      const later = Date.now() + UNARY_FALLBACK_MS + 1;
      now.mockImplementation(() => later);
      sent.length = 0;
      await echo({ n: 6 });
      expect(sent).toEqual([
        [1, 'batch'],
        [1, 'unary'],
      ]);
      expect(fallbacks.map((e) => e.code)).toEqual([status.UNIMPLEMENTED, status.UNIMPLEMENTED]);
    } finally {
      now.mockRestore();
      s.close();
    }
  });

  it('when a batch is served, then each entry is counted as a call of the unary method with its own code, and the batch once', async () => {
    const s = await echoServer();
    try {
      const echo = batchingCaller(s.client, { deadlineMs: 5_000, isCutOff, lingerMs: 0, maxEntries: 100 })('echoBatch', { repeatIfCutOff: false });
      await Promise.allSettled([0, 1, 2, 3, 4].map((n) => echo({ n })));
      const text = await s.registry.metrics();
      const handled = (method: string, code: string) =>
        Number(
          new RegExp(`orderflow_grpc_server_handled_total\\{grpc_service="test.Echo",grpc_method="${method}",grpc_code="${code}"\\} (\\d+)`).exec(text)?.[1] ??
            0,
        );
      expect([handled('Echo', 'OK'), handled('Echo', 'FAILED_PRECONDITION'), handled('EchoBatch', 'OK')]).toEqual([3, 2, 1]);
      expect(text).toMatch(/orderflow_grpc_server_handling_seconds_count\{grpc_service="test.Echo",grpc_method="Echo"\} 5/);
    } finally {
      s.close();
    }
  });

  it('when an entry has no request or a malformed request id, then it alone is refused or served without the id, and its neighbours are answered', async () => {
    const s = await echoServer();
    try {
      const response = await new Promise<BatchResponse<Echoed>>((resolve, reject) =>
        s.client.echoBatch(
          {
            entries: [
              { context: { requestId: 'r-1', timeoutMs: 0, traceparent: '' } },
              { request: { n: 2 }, context: { requestId: 'bad\nid', timeoutMs: 0, traceparent: '' } },
              { request: { n: 4 }, context: { requestId: 'r-3', timeoutMs: 0, traceparent: '' } },
            ],
          },
          new Metadata(),
          { deadline: Date.now() + 5_000 },
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      );
      expect(response.results.map((r) => [r.status?.code, r.response?.requestId])).toEqual([
        [status.INVALID_ARGUMENT, undefined],
        [status.OK, null],
        [status.OK, 'r-3'],
      ]);
    } finally {
      s.close();
    }
  });

  it('when an entry is still running near the batch call’s deadline, then the batch answers with its neighbours’ answers and that entry alone is DEADLINE_EXCEEDED', async () => {
    const s = await echoServer();
    try {
      const echo = batchingCaller(s.client, { deadlineMs: 600, isCutOff, lingerMs: 0, maxEntries: 100 })('echoBatch', { repeatIfCutOff: false });
      const started = Date.now();
      const [fast, slow] = await Promise.allSettled([echo({ n: 0 }), echo({ n: 2, wait: 1_500 })]);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(fast).toMatchObject({ status: 'fulfilled', value: { n: 0 } });
      expect(slow.status === 'rejected' && (slow.reason as ServiceError).code).toBe(status.DEADLINE_EXCEEDED);
      expect(s.batches).toEqual([2]);
      const text = await s.registry.metrics();
      expect(text).toMatch(/grpc_method="Echo",grpc_code="DEADLINE_EXCEEDED"\} 1/);
    } finally {
      s.close();
    }
  });
});
