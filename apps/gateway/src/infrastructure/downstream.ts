import { Client, credentials, Metadata, ServiceError } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as grpc from '@grpc/grpc-js';
import { errorDetails, inventoryV1, orderQueryV1, orderV1 } from '@orderflow/proto';
import { grpcChannel, repeatIfCutOff } from '@orderflow/service-kit';

type Callback<Res> = (error: ServiceError | null, response: Res) => void;
type Unary<Req, Res> = (request: Req, metadata: Metadata, options: { deadline: Date }, callback: Callback<Res>) => unknown;

/**
 * A promise-returning call of a generated client method, with a deadline on every call. A method that
 * is safe to repeat (a read, a transition that answers "already" when repeated, a placement with its
 * idempotency key) is made once more when it was cut off: on the other replica when the address names
 * several, or on the same service back (libs/service-kit `repeatIfCutOff`).
 */
function bind<Req, Res>(client: Client, method: unknown, deadlineMs: number, repeatable: boolean, requestId: () => string | undefined) {
  const once = (request: Req, deadline: Date): Promise<Res> =>
    new Promise((resolve, reject) => {
      const metadata = new Metadata();
      const id = requestId();
      if (id) metadata.set('x-request-id', id);
      (method as Unary<Req, Res>).call(client, request, metadata, { deadline }, (error, response) => (error ? reject(error) : resolve(response)));
    });
  return (request: Req): Promise<Res> => {
    const deadline = new Date(Date.now() + deadlineMs);
    return repeatable ? repeatIfCutOff(client, deadline, () => once(request, deadline), errorDetails.isCutOff) : once(request, deadline);
  };
}

const HEALTH_PROTO = require.resolve('grpc-health-check/proto/health/v1/health.proto');

/** The three services the gateway calls, over their generated stubs; one channel each. */
export function createDownstream(addresses: { orderCommand: string; orderQuery: string; inventory: string }, deadlineMs: number) {
  const insecure = credentials.createInsecure();
  // Each address may name several replicas: calls go round-robin over the ready ones.
  const connect = <C>(Service: new (target: string, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions) => C, address: string): C => {
    const { target, options } = grpcChannel(address);
    return new Service(target, insecure, options);
  };
  const orderCommand = connect(orderV1.OrderCommandServiceClient, addresses.orderCommand);
  const orderQuery = connect(orderQueryV1.OrderQueryServiceClient, addresses.orderQuery);
  const inventory = connect(inventoryV1.InventoryServiceClient, addresses.inventory);
  const noId = () => undefined;
  const call = <Req, Res>(client: Client, method: unknown, repeatable = true) => bind<Req, Res>(client, method, deadlineMs, repeatable, noId);

  // Standard gRPC health checking of each downstream, for /readyz.
  const healthDefinition = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO, { keepCase: true, enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (target: string, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions) => Client & { check: unknown } } } };
  };
  const healthClients = Object.entries(addresses).map(([name, address]) => ({ name, client: connect(healthDefinition.grpc.health.v1.Health, address) }));

  return {
    placeOrder: call<orderV1.PlaceOrderRequest, orderV1.PlaceOrderResponse>(orderCommand, orderCommand.placeOrder),
    cancelOrder: call<orderV1.CancelOrderRequest, orderV1.CancelOrderResponse>(orderCommand, orderCommand.cancelOrder),
    payOrder: call<orderV1.PayOrderRequest, orderV1.PayOrderResponse>(orderCommand, orderCommand.payOrder),
    shipOrder: call<orderV1.ShipOrderRequest, orderV1.ShipOrderResponse>(orderCommand, orderCommand.shipOrder),
    getOrderFromCommand: call<orderV1.GetOrderRequest, orderV1.GetOrderResponse>(orderCommand, orderCommand.getOrder),
    getOrderHistory: call<orderV1.GetOrderHistoryRequest, orderV1.GetOrderHistoryResponse>(orderCommand, orderCommand.getOrderHistory),
    getOrder: call<orderQueryV1.GetOrderRequest, orderQueryV1.GetOrderResponse>(orderQuery, orderQuery.getOrder),
    listOrders: call<orderQueryV1.ListOrdersRequest, orderQueryV1.ListOrdersResponse>(orderQuery, orderQuery.listOrders),
    listAllOrders: call<orderQueryV1.ListAllOrdersRequest, orderQueryV1.ListAllOrdersResponse>(orderQuery, orderQuery.listAllOrders),
    projectionLag: call<orderQueryV1.GetProjectionLagRequest, orderQueryV1.GetProjectionLagResponse>(orderQuery, orderQuery.getProjectionLag),
    upsertProduct: call<inventoryV1.UpsertProductRequest, inventoryV1.UpsertProductResponse>(inventory, inventory.upsertProduct),
    getProducts: call<inventoryV1.GetProductsRequest, inventoryV1.GetProductsResponse>(inventory, inventory.getProducts),
    // A stock delta is not idempotent: a cut-off one is not repeated (the outcome is unknown).
    adjustStock: call<inventoryV1.AdjustStockRequest, inventoryV1.AdjustStockResponse>(inventory, inventory.adjustStock, false),

    /** SERVING or the reason it is not, per downstream. */
    async health(timeoutMs = 1_000): Promise<Record<string, string>> {
      const results = await Promise.all(
        healthClients.map(
          ({ name, client }) =>
            new Promise<[string, string]>((resolve) =>
              (client.check as Unary<{ service: string }, { status: string }>).call(client, { service: '' }, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (error, response) =>
                resolve([name, error ? `unreachable (${error.code})` : String(response.status)]),
              ),
            ),
        ),
      );
      return Object.fromEntries(results);
    },

    close(): void {
      for (const client of [orderCommand, orderQuery, inventory, ...healthClients.map((h) => h.client)]) client.close();
    },
  };
}

export type Downstream = ReturnType<typeof createDownstream>;
