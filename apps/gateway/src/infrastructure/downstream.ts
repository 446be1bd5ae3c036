import { Client, credentials, Metadata, ServiceError, status } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as grpc from '@grpc/grpc-js';
import { errorDetails, inventoryV1, orderQueryV1, orderV1 } from '@orderflow/proto';

type Callback<Res> = (error: ServiceError | null, response: Res) => void;
type Unary<Req, Res> = (request: Req, metadata: Metadata, options: { deadline: Date; waitForReady?: boolean }, callback: Callback<Res>) => unknown;

/**
 * UNAVAILABLE that the service did not send itself (no reason in trailing metadata): the connection
 * failed or dropped, or the process died, possibly after it had done the work. The outcome is unknown.
 * A service that knows it changed nothing says so with reason `unavailable`.
 */
export function isCutOff(error: unknown): boolean {
  const e = error as Partial<ServiceError>;
  return e?.code === status.UNAVAILABLE && !!e.metadata && errorDetails.errorReason(e.metadata) === undefined;
}

export interface CallOptions {
  /**
   * Safe to repeat (an idempotency key, or a transition that answers "already" when repeated): a call
   * cut off is made once more within the same deadline, once a connection is ready again (another
   * replica when the address names several, or the same service back) within REPEAT_READY_WAIT_MS;
   * if none is, the cut-off stands (outcome unknown) rather than holding the request until its deadline.
   */
  repeatIfCutOff?: boolean;
}

/** How long a repeat waits for a ready connection after a cut-off. */
export const REPEAT_READY_WAIT_MS = 1_000;

/** A promise-returning call of a generated client method, with a deadline on every call. */
function bind<Req, Res>(client: Client, method: unknown, deadlineMs: number, requestId: () => string | undefined) {
  const once = (request: Req, deadline: Date, waitForReady: boolean): Promise<Res> =>
    new Promise((resolve, reject) => {
      const metadata = new Metadata();
      const id = requestId();
      if (id) metadata.set('x-request-id', id);
      (method as Unary<Req, Res>).call(client, request, metadata, { deadline, waitForReady }, (error, response) => (error ? reject(error) : resolve(response)));
    });
  const ready = (until: number): Promise<boolean> =>
    new Promise((resolve) => client.waitForReady(new Date(until), (error) => resolve(!error)));
  return async (request: Req, options: CallOptions = {}): Promise<Res> => {
    const deadline = new Date(Date.now() + deadlineMs);
    try {
      return await once(request, deadline, false);
    } catch (error) {
      if (!options.repeatIfCutOff || !isCutOff(error)) throw error;
      if (!(await ready(Math.min(deadline.getTime(), Date.now() + REPEAT_READY_WAIT_MS)))) throw error;
      return once(request, deadline, false);
    }
  };
}

const HEALTH_PROTO = require.resolve('grpc-health-check/proto/health/v1/health.proto');

/** The three services the gateway calls, over their generated stubs; one channel each. */
export function createDownstream(addresses: { orderCommand: string; orderQuery: string; inventory: string }, deadlineMs: number) {
  const insecure = credentials.createInsecure();
  const orderCommand = new orderV1.OrderCommandServiceClient(addresses.orderCommand, insecure);
  const orderQuery = new orderQueryV1.OrderQueryServiceClient(addresses.orderQuery, insecure);
  const inventory = new inventoryV1.InventoryServiceClient(addresses.inventory, insecure);
  const noId = () => undefined;
  const call = <Req, Res>(client: Client, method: unknown) => bind<Req, Res>(client, method, deadlineMs, noId);

  // Standard gRPC health checking of each downstream, for /readyz.
  const healthDefinition = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO, { keepCase: true, enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, creds: grpc.ChannelCredentials) => Client & { check: unknown } } } };
  };
  const healthClients = Object.entries(addresses).map(([name, address]) => ({ name, client: new healthDefinition.grpc.health.v1.Health(address, insecure) }));

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
    adjustStock: call<inventoryV1.AdjustStockRequest, inventoryV1.AdjustStockResponse>(inventory, inventory.adjustStock),

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
