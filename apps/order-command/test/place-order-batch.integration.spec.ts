import { Writable } from 'node:stream';
import { credentials, loadPackageDefinition, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { errorDetails, loadPackageDefinition as orderflowDefinitions, orderV1 } from '@orderflow/proto';
import { batchingCaller, currentRequestId, entryError, unaryCaller } from '@orderflow/service-kit';
import pino from 'pino';
import { orderCommandRun, placeOrderRequest } from './support';

/** What a caller can tell of a refusal: code, message and every orderflow-* trailing metadata value. */
const refusalOf = (error: ServiceError) => ({
  code: error.code,
  details: error.details,
  metadata: Object.entries(error.metadata.getMap())
    .filter(([key]) => key.startsWith('orderflow-'))
    .sort(([a], [b]) => a.localeCompare(b)),
});

describe('PlaceOrderBatch over gRPC (real MariaDB x2, Redis, NATS and the inventory process)', () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write: (chunk, _enc, done) => (
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      ),
      done()
    ),
  });
  // At debug, as a deployment that logs every call: each entry must read as a PlaceOrder call with its own request id.
  const logger = pino({ level: 'debug', mixin: () => (currentRequestId() ? { reqId: currentRequestId() } : {}) }, sink);
  const run = orderCommandRun({}, { logger });

  const product = (id: string, available: number, priceMinor = 1000) => run.inventory.api.upsertProduct({ id, name: id, priceMinor, available });
  const stockOf = async (id: string) => (await run.inventory.api.getProducts({ productIds: [id] })).products[0]!;
  const clients = () => {
    const options = { deadlineMs: 30_000, isCutOff: errorDetails.isCutOff };
    const client = run.oc.api.client;
    return {
      batched: batchingCaller(client, { ...options, lingerMs: 0, maxEntries: 100 })('placeOrderBatch', { repeatIfCutOff: true }),
      single: unaryCaller(client, options)('placeOrder', { repeatIfCutOff: true }),
    };
  };
  /** One PlaceOrderBatch call, as the generated client makes it. */
  const batchCall = (entries: orderV1.PlaceOrderBatchEntry[]) =>
    new Promise<orderV1.PlaceOrderBatchResponse>((resolve, reject) =>
      run.oc.api.client.placeOrderBatch({ entries }, new Metadata(), { deadline: Date.now() + 30_000 }, (e, r) => (e ? reject(e) : resolve(r))),
    );
  const entry = (request: orderV1.PlaceOrderRequest, requestId = '') => ({ request, context: { requestId, timeoutMs: 0, traceparent: '' } });

  it('when one batch carries a placement, a short one, an unknown product and a malformed one, then each is answered as its PlaceOrder call is, and only the placement holds stock', async () => {
    await product('batch-ok', 10, 500);
    await product('batch-short', 1, 500);
    const line = (productId: string, quantity = 1) => ({ productId, quantity, unitPriceMinor: 500 });
    const requests = [
      placeOrderRequest('batch-amy', line('batch-ok', 2)),
      placeOrderRequest('batch-ben', line('batch-short', 3)),
      placeOrderRequest('batch-cat', line('batch-none')),
      placeOrderRequest('batch-dan', { productId: 'x y', quantity: 0, unitPriceMinor: -1 }, { address: '' }),
    ];
    const { batched, single } = clients();
    const outcomes = await Promise.allSettled(requests.map((r) => batched(r)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected']);
    const placed = (outcomes[0] as PromiseFulfilledResult<orderV1.PlaceOrderResponse>).value;
    expect(placed).toMatchObject({ replayed: false, order: { customerId: 'batch-amy', status: orderV1.OrderStatus.ORDER_STATUS_RESERVED, totalMinor: 1000 } });
    expect((await run.oc.api.getOrder({ orderId: placed.order!.id, actor: { customerId: 'batch-amy', admin: false } })).order).toEqual(placed.order);

    const refusals = outcomes.slice(1).map((o) => (o as PromiseRejectedResult).reason as ServiceError);
    expect(refusals.map((e) => [e.code, errorDetails.errorReason(e.metadata)])).toEqual([
      [status.FAILED_PRECONDITION, 'insufficient-stock'],
      [status.NOT_FOUND, 'unknown-product'],
      [status.INVALID_ARGUMENT, 'invalid-argument'],
    ]);
    expect(errorDetails.readInsufficientStock(refusals[0]!.metadata)).toEqual([{ productId: 'batch-short', requested: 3, available: 1 }]);
    expect(errorDetails.readProductIds(refusals[1]!.metadata)).toEqual(['batch-none']);
    // The same requests as PlaceOrder calls (nothing was changed by the refused ones): the same refusals, to the byte.
    for (const [i, refusal] of refusals.entries()) {
      const unary = (await single(requests[i + 1]!).catch((e: unknown) => e)) as ServiceError;
      expect(refusalOf(refusal)).toEqual(refusalOf(unary));
    }
    expect(await stockOf('batch-ok')).toMatchObject({ available: 8, reserved: 2 });
    expect(await stockOf('batch-short')).toMatchObject({ available: 1, reserved: 0 });
  });

  it('when keyed entries come again, in the same batch or a later one, then one order is made per key and the others replay it', async () => {
    await product('batch-key', 100, 700);
    const request = (key: string) => placeOrderRequest('batch-erin', { productId: 'batch-key', quantity: 3, unitPriceMinor: 700 }, { idempotencyKey: key });
    const first = await batchCall([entry(request('bk-1')), entry(request('bk-1')), entry(request('bk-2'))]);
    expect(first.results.map((r) => r.status?.code)).toEqual([0, 0, 0]);
    const [a, b, c] = first.results.map((r) => r.response!);
    expect(a!.order!.id).toBe(b!.order!.id);
    expect([a!.replayed, b!.replayed].sort()).toEqual([false, true]);
    expect(c!.order!.id).not.toBe(a!.order!.id);
    const again = await batchCall([entry(request('bk-2')), entry(request('bk-1'))]);
    expect(again.results.map((r) => [r.response!.order!.id, r.response!.replayed])).toEqual([
      [c!.order!.id, true],
      [a!.order!.id, true],
    ]);
    // Another body under a used key is refused as PlaceOrder refuses it; its neighbour is placed.
    const reused = await batchCall([entry({ ...request('bk-1'), address: 'B' }), entry(request('bk-3'))]);
    const [refused, placed] = reused.results;
    expect(refused!.response).toBeUndefined();
    expect(refused!.status!.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetails.errorReason(entryError(refused!.status!).metadata)).toBe('idempotency-key-reused');
    expect(placed!.status!.code).toBe(status.OK);
    expect(await stockOf('batch-key')).toMatchObject({ available: 91, reserved: 9 });
  });

  it('when entries carry request ids, then each entry is logged and counted as a PlaceOrder call, with its own id', async () => {
    await product('batch-log', 10, 100);
    const request = (customerId: string) => placeOrderRequest(customerId, { productId: 'batch-log', quantity: 1, unitPriceMinor: 100 });
    const answer = await batchCall([entry(request('batch-log-1'), 'rid-batch-1'), entry(request('batch-log-2'), 'rid-batch-2')]);
    expect(answer.results.map((r) => r.status?.code)).toEqual([0, 0]);
    for (const requestId of ['rid-batch-1', 'rid-batch-2']) {
      expect(lines.filter((l) => l.reqId === requestId && l.msg === 'gRPC call').map((l) => [l.method, l.code])).toEqual([['PlaceOrder', 'OK']]);
    }
    const metrics = await run.oc.app.metrics.metrics();
    expect(metrics).toMatch(
      /orderflow_grpc_server_handled_total\{grpc_service="orderflow\.order\.v1\.OrderCommandService",grpc_method="PlaceOrder",grpc_code="OK"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /orderflow_grpc_server_handled_total\{grpc_service="orderflow\.order\.v1\.OrderCommandService",grpc_method="PlaceOrderBatch",grpc_code="OK"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /orderflow_grpc_server_handled_total\{grpc_service="orderflow\.order\.v1\.OrderCommandService",grpc_method="PlaceOrder",grpc_code="FAILED_PRECONDITION"\} [1-9]/,
    );
  });

  it('when an entry has a deadline already past, then it alone fails and its neighbour is placed', async () => {
    await product('batch-late', 10, 100);
    const line = { productId: 'batch-late', quantity: 1, unitPriceMinor: 100 };
    const answer = await batchCall([
      { request: placeOrderRequest('batch-late-1', line), context: { requestId: '', timeoutMs: 1, traceparent: '' } },
      entry(placeOrderRequest('batch-late-2', line)),
    ]);
    const [late, onTime] = answer.results;
    expect(onTime!.status!.code).toBe(status.OK);
    // Nothing was changed for it (no time left to reserve): the unary call's "unavailable", or its deadline.
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(late!.status!.code);
    expect(late!.response).toBeUndefined();
    // (Its Reserve may have reached inventory before the deadline cut it off: that hold is released as any
    // failed placement's, by the settler when the release could not be made in time: place-order.integration.)
  });

  it('when a standard client built from the .proto files (proto-loader) calls PlaceOrderBatch, then it gets a result per entry', async () => {
    await product('batch-std', 5, 300);
    type StdClient = {
      PlaceOrderBatch(
        request: unknown,
        callback: (error: ServiceError | null, response: { results: { status: { code: number }; response: unknown }[] }) => void,
      ): void;
      close(): void;
    };
    const pkg = loadPackageDefinition(orderflowDefinitions()) as unknown as {
      orderflow: { order: { v1: { OrderCommandService: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => StdClient } } };
    };
    const client = new pkg.orderflow.order.v1.OrderCommandService(`127.0.0.1:${run.oc.app.grpc.boundPort}`, credentials.createInsecure());
    try {
      const item = (quantity: number) => ({ product_id: 'batch-std', quantity, unit_price_minor: 300 });
      const response = await new Promise<{ results: { status: { code: number }; response: unknown }[] }>((resolve, reject) =>
        client.PlaceOrderBatch(
          {
            entries: [
              { request: { customer_id: 'std-1', items: [item(2)], address: 'A', payment_method: 'card' }, context: { request_id: 'rid-std-1' } },
              { request: { customer_id: 'std-2', items: [item(9)], address: 'A', payment_method: 'card' } },
            ],
          },
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      );
      expect(response.results.map((r) => r.status.code)).toEqual([status.OK, status.FAILED_PRECONDITION]);
      expect(response.results[0]!.response).toMatchObject({ order: { customer_id: 'std-1', total_minor: '600', status: 'ORDER_STATUS_RESERVED' } });
      expect(response.results[1]!.response).toBeNull();
    } finally {
      client.close();
    }
  });
});
