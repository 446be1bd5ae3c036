import { orderToProto as toProtoOrder, orderV1 } from '@orderflow/proto';
import { batchHandler, type Logger, unaryHandlers } from '@orderflow/service-kit';
import type { Registry } from 'prom-client';
import type { Actor, Order } from '../domain/model';
import type { OrderLifecycle } from '../domain/order-lifecycle.use-cases';
import type { PlaceOrder } from '../domain/place-order.use-case';
import { toProtoHistoryEntry } from './order-proto.mapper';
import { toGrpcError } from './grpc-error.mapper';

const actorOf = (actor: orderV1.Actor | undefined): Actor => ({ customerId: actor?.customerId ?? '', admin: actor?.admin ?? false });

/**
 * Thin adapter: proto in, use case, proto out; every error through the one mapper. PlaceOrderBatch
 * serves each entry with PlaceOrder's own handler, all at once (so the group commit and the Reserve
 * batching see them together); each entry is counted, logged and traced as a PlaceOrder call
 * (`metrics`: the registry the gRPC server's metrics are in).
 */
export function createOrderCommandGrpcHandler(
  placeOrder: PlaceOrder,
  lifecycle: OrderLifecycle,
  logger: Logger,
  metrics?: Registry,
): orderV1.OrderCommandServiceServer {
  const unary = unaryHandlers((error, method) => toGrpcError(error, logger, method));
  const orderResponse = (order: Order) => ({ order: toProtoOrder(order) });

  const placeOrderHandler = unary('PlaceOrder', async (req: orderV1.PlaceOrderRequest): Promise<orderV1.PlaceOrderResponse> => {
    const { order, replayed } = await placeOrder({
      customerId: req.customerId,
      idempotencyKey: req.idempotencyKey || undefined,
      keyMadeByGateway: req.idempotencyKeyMadeByGateway ?? false,
      items: req.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPriceMinor: i.unitPriceMinor })),
      address: req.address,
      paymentMethod: req.paymentMethod,
    });
    return { order: toProtoOrder(order), replayed };
  });

  return {
    placeOrder: placeOrderHandler,
    placeOrderBatch: batchHandler(placeOrderHandler, { metrics, logger }),
    cancelOrder: unary('CancelOrder', async (req: orderV1.CancelOrderRequest) => orderResponse(await lifecycle.cancelOrder(req.orderId, actorOf(req.actor)))),
    payOrder: unary('PayOrder', async (req: orderV1.PayOrderRequest) => orderResponse(await lifecycle.payOrder(req.orderId, actorOf(req.actor)))),
    shipOrder: unary('ShipOrder', async (req: orderV1.ShipOrderRequest) => orderResponse(await lifecycle.shipOrder(req.orderId, actorOf(req.actor)))),
    getOrder: unary('GetOrder', async (req: orderV1.GetOrderRequest) => orderResponse(await lifecycle.getOrder(req.orderId, actorOf(req.actor)))),
    getOrderHistory: unary('GetOrderHistory', async (req: orderV1.GetOrderHistoryRequest) => ({
      orderId: req.orderId,
      entries: (await lifecycle.getOrderHistory(req.orderId, actorOf(req.actor))).map(toProtoHistoryEntry),
    })),
  };
}
