import * as grpc from '@grpc/grpc-js';
import { inventoryV1 } from '@orderflow/proto';
import { grpcServerMetrics, unaryCaller } from '@orderflow/service-kit';
import { Registry } from 'prom-client';
import { closuresPerCallCaller } from './closures-per-call.unary-caller';
import { withFreshMetadata } from './fresh-metadata.stub';
import { perCallLabelsMetrics } from './per-call-labels.metrics';

// The pieces `npm run bench:grpc-wins` puts back must do what main's do, only in the old way: same metrics, same calls.

type Seen = { orderId: string; requestId: string | undefined };

/** Reserve answered at once (NOT_FOUND for product "missing"), recording what each call carried. */
function reserveServer(seen: Seen[]): Pick<inventoryV1.InventoryServiceServer, 'reserve'> {
  return {
    reserve: (call, callback) => {
      seen.push({ orderId: call.request.orderId, requestId: call.metadata.get('x-request-id')[0] as string | undefined });
      if (call.request.items[0]?.productId === 'missing') return callback({ code: grpc.status.NOT_FOUND, details: 'no such product' });
      callback(null, { reservation: undefined });
    },
  };
}

async function serve(interceptors: grpc.ServerInterceptor[], seen: Seen[] = []) {
  const server = new grpc.Server({ interceptors });
  server.addService(inventoryV1.InventoryServiceService, reserveServer(seen) as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const client = new inventoryV1.InventoryServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    client,
    close: () => {
      client.close();
      server.forceShutdown();
    },
  };
}

const reserveRequest = (orderId: string, productId = 'p1'): inventoryV1.ReserveRequest => ({
  orderId,
  items: [{ productId, quantity: 1 }],
  expiresAt: new Date(Date.now() + 60_000),
  expectedPrices: [],
  placementId: '',
});
const options = { deadlineMs: 5_000, isCutOff: () => false };

/** handled_total by labels, and the histogram's count by labels: what a scrape would show, timings aside. */
async function recorded(registry: Registry): Promise<Record<string, number>> {
  const handled = await registry.getSingleMetric('orderflow_grpc_server_handled_total')!.get();
  const timed = await registry.getSingleMetric('orderflow_grpc_server_handling_seconds')!.get();
  const key = (name: string, labels: object) => `${name} ${JSON.stringify(labels)}`;
  return Object.fromEntries([
    ...handled.values.map((v) => [key('handled', v.labels), v.value]),
    ...timed.values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count')).map((v) => [key('timed', v.labels), v.value]),
  ]);
}

describe('bench:grpc-wins: what each variant puts back', () => {
  it('when the per-call-labels interceptor serves the same calls as grpcServerMetrics, then it records the same counts under the same labels', async () => {
    const results: Record<string, number>[] = [];
    for (const metrics of [grpcServerMetrics, perCallLabelsMetrics]) {
      const registry = new Registry();
      const { client, close } = await serve([metrics(registry)]);
      try {
        const reserve = unaryCaller(client, options)('reserve', { repeatIfCutOff: false });
        await reserve(reserveRequest('o1'));
        await reserve(reserveRequest('o2'));
        await expect(reserve(reserveRequest('o3', 'missing'))).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
      } finally {
        close();
      }
      results.push(await recorded(registry));
    }
    const [shipped, perCall] = results;
    expect(perCall).toEqual(shipped);
    expect(shipped).toMatchObject({
      'handled {"grpc_service":"orderflow.inventory.v1.InventoryService","grpc_method":"Reserve","grpc_code":"OK"}': 2,
      'handled {"grpc_service":"orderflow.inventory.v1.InventoryService","grpc_method":"Reserve","grpc_code":"NOT_FOUND"}': 1,
      'timed {"grpc_service":"orderflow.inventory.v1.InventoryService","grpc_method":"Reserve"}': 3,
    });
  });

  it('when calls go through the closures-per-call caller, then they reach the server as unaryCaller’s do: request id when given, none otherwise, errors as they came', async () => {
    const runs: Seen[][] = [];
    for (const caller of [unaryCaller, closuresPerCallCaller]) {
      const seen: Seen[] = [];
      const { client, close } = await serve([], seen);
      try {
        const reserve = caller(client, options)('reserve', { repeatIfCutOff: true });
        await reserve(reserveRequest('o1'));
        await reserve(reserveRequest('o2'), 'req-2');
        await expect(reserve(reserveRequest('o3', 'missing'))).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'no such product' });
      } finally {
        close();
      }
      runs.push(seen);
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[0]).toEqual([
      { orderId: 'o1', requestId: undefined },
      { orderId: 'o2', requestId: 'req-2' },
      { orderId: 'o3', requestId: undefined },
    ]);
  });

  it('when calls go through the fresh-Metadata stub, then each call is given a Metadata of its own (unaryCaller alone passes one shared, empty one) and is answered the same', async () => {
    const seen: Seen[] = [];
    const { client, close } = await serve([], seen);
    try {
      const passed = new Map<string, grpc.Metadata[]>();
      for (const [name, stubOf] of [
        ['shipped', (c: inventoryV1.InventoryServiceClient) => c],
        ['fresh', withFreshMetadata],
      ] as const) {
        // Records the Metadata object each call hands to grpc-js, then makes the call.
        const recorder = Object.create(client) as inventoryV1.InventoryServiceClient;
        const metadatas: grpc.Metadata[] = [];
        const reserve = (
          request: inventoryV1.ReserveRequest,
          metadata: grpc.Metadata,
          o: Partial<grpc.CallOptions>,
          cb: Parameters<typeof client.reserve>[3],
        ) => {
          metadatas.push(metadata);
          return client.reserve(request, metadata, o, cb);
        };
        recorder.reserve = reserve as typeof client.reserve;
        const call = unaryCaller(stubOf(recorder), options)('reserve', { repeatIfCutOff: true });
        await call(reserveRequest(`${name}-1`));
        await call(reserveRequest(`${name}-2`));
        passed.set(name, metadatas);
      }
      const [shipped1, shipped2] = passed.get('shipped')!;
      const [fresh1, fresh2] = passed.get('fresh')!;
      expect(shipped1).toBe(shipped2);
      expect(fresh1).not.toBe(fresh2);
      expect([fresh1, fresh2].map((m) => m!.toJSON())).toEqual([{}, {}]);
      expect(seen.map((s) => s.orderId)).toEqual(['shipped-1', 'shipped-2', 'fresh-1', 'fresh-2']);
    } finally {
      close();
    }
  });
});
