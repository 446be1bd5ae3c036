import { type ChannelCredentials, type ChannelOptions, credentials, type ServiceError } from '@grpc/grpc-js';
import { errorDetails, inventoryV1, orderQueryV1, orderV1 } from '@orderflow/proto';
import { type BatchingOptions, batchingCaller, grpcChannel, HealthClient, sharedChannel, type UnaryCall, unaryCaller } from '@orderflow/service-kit';

type ClientConstructor<C> = new (target: string, creds: ChannelCredentials, options: ChannelOptions) => C;

/** A downstream call takes the REST request's id (X-Request-Id) as a required argument: none is sent without it by mistake. */
const withRequestId =
  <Req, Res>(call: UnaryCall<Req, Res>) =>
  (request: Req, requestId: string | undefined): Promise<Res> =>
    call(request, requestId);

/** A unary call told to `onSend` as a call of one entry. */
const countedAsUnary =
  <Req, Res>(call: UnaryCall<Req, Res>, onSend: BatchingOptions['onSend']): UnaryCall<Req, Res> =>
  (request, requestId) => {
    onSend?.(1, 'unary');
    return call(request, requestId);
  };

/** How long /readyz waits for each downstream's health check. */
const HEALTH_CHECK_TIMEOUT_MS = 1_000;

export interface DownstreamOptions {
  deadlineMs: number;
  /** Gathering placements into PlaceOrderBatch calls (maxEntries 1: none, each is a PlaceOrder call). */
  placeOrderBatch: Pick<BatchingOptions, 'lingerMs' | 'maxEntries'>;
  /** Told of every placement call sent: how many placements it carried, batched or unary. */
  onPlaceOrderSent?: BatchingOptions['onSend'];
  /** Told once per fallback window when order-command does not serve PlaceOrderBatch (placements go one call each). */
  onPlaceOrderFallback?: BatchingOptions['onFallback'];
}

/**
 * The three services the gateway calls, over their generated stubs; one channel each. Every call has a
 * deadline and carries the REST request's id (x-request-id). A method that is safe to repeat (a read, a
 * transition that answers "already" when repeated, a placement with its idempotency key) is made once
 * more when it was cut off: on the other replica when the address names several, or on the same service
 * back (libs/service-kit `unaryCaller`).
 *
 * Placements made together (concurrent POST /api/orders in this process) travel together in one
 * PlaceOrderBatch call (libs/service-kit `batchingCaller`): each keeps its own request id, deadline,
 * trace and answer (the error PlaceOrder would have failed with), so the REST answers are those of
 * PlaceOrder calls. An order-command that does not know PlaceOrderBatch yet (a rolling upgrade) gets
 * PlaceOrder calls instead.
 */
export function createDownstream(
  addresses: { orderCommand: string; orderQuery: string; inventory: string },
  { deadlineMs, placeOrderBatch, onPlaceOrderSent, onPlaceOrderFallback }: DownstreamOptions,
) {
  const insecure = credentials.createInsecure();
  // Each address may name several replicas: calls go round-robin over the ready ones.
  const connect = <C>(Service: ClientConstructor<C>, address: string): C => {
    const { target, options } = grpcChannel(address);
    return new Service(target, insecure, options);
  };
  const orderCommand = connect(orderV1.OrderCommandServiceClient, addresses.orderCommand);
  const orderQuery = connect(orderQueryV1.OrderQueryServiceClient, addresses.orderQuery);
  const inventory = connect(inventoryV1.InventoryServiceClient, addresses.inventory);
  const options = { deadlineMs, isCutOff: errorDetails.isCutOff };
  const [onOrderCommand, onOrderQuery, onInventory] = [unaryCaller(orderCommand, options), unaryCaller(orderQuery, options), unaryCaller(inventory, options)];
  const repeatable = { repeatIfCutOff: true };
  // A placement is keyed (the client's key or the gateway's own): safe to repeat, batched or not.
  const placeOrder =
    placeOrderBatch.maxEntries > 1
      ? batchingCaller(orderCommand, { ...options, ...placeOrderBatch, onSend: onPlaceOrderSent, onFallback: onPlaceOrderFallback })('placeOrderBatch', {
          ...repeatable,
          unaryFallback: 'placeOrder',
        })
      : countedAsUnary(onOrderCommand('placeOrder', repeatable), onPlaceOrderSent);

  // Standard gRPC health checking of each downstream, for /readyz, over that downstream's channel (no second one).
  const channelOf = { orderCommand, orderQuery, inventory };
  const healthClients = (Object.keys(addresses) as (keyof typeof addresses)[]).map((name) => {
    const client = new HealthClient(addresses[name], insecure, sharedChannel(channelOf[name]));
    const check = unaryCaller(client, { ...options, deadlineMs: HEALTH_CHECK_TIMEOUT_MS })('check', { repeatIfCutOff: false });
    return { name, check };
  });

  return {
    placeOrder: withRequestId(placeOrder),
    cancelOrder: withRequestId(onOrderCommand('cancelOrder', repeatable)),
    payOrder: withRequestId(onOrderCommand('payOrder', repeatable)),
    shipOrder: withRequestId(onOrderCommand('shipOrder', repeatable)),
    getOrderFromCommand: withRequestId(onOrderCommand('getOrder', repeatable)),
    getOrderHistory: withRequestId(onOrderCommand('getOrderHistory', repeatable)),
    getOrder: withRequestId(onOrderQuery('getOrder', repeatable)),
    listOrders: withRequestId(onOrderQuery('listOrders', repeatable)),
    listAllOrders: withRequestId(onOrderQuery('listAllOrders', repeatable)),
    projectionLag: withRequestId(onOrderQuery('getProjectionLag', repeatable)),
    upsertProduct: withRequestId(onInventory('upsertProduct', repeatable)),
    getProducts: withRequestId(onInventory('getProducts', repeatable)),
    // A stock delta is not idempotent: a cut-off one is not repeated (the outcome is unknown).
    adjustStock: withRequestId(onInventory('adjustStock', { repeatIfCutOff: false })),

    /** SERVING or the reason it is not, per downstream. */
    async health(): Promise<Record<string, string>> {
      const results = await Promise.all(
        healthClients.map(({ name, check }) =>
          check({ service: '' }).then(
            (response): [string, string] => [name, String(response.status)],
            (error: ServiceError): [string, string] => [name, `unreachable (${error.code})`],
          ),
        ),
      );
      return Object.fromEntries(results);
    },

    close(): void {
      for (const client of [orderCommand, orderQuery, inventory]) client.close(); // the health clients' channels too
    },
  };
}

export type Downstream = ReturnType<typeof createDownstream>;
