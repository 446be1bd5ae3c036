import { orderToProto as toProtoOrder, orderV1 } from '@orderflow/proto';
import { type Logger, unaryHandlers } from '@orderflow/service-kit';
import type { Actor, Order } from '../domain/model';
import type { OrderLifecycle } from '../domain/order-lifecycle.use-cases';
import type { PlaceOrder } from '../domain/place-order.use-case';
import { toProtoHistoryEntry } from './order-proto.mapper';
import { toGrpcError } from './grpc-error.mapper';

const actorOf = (actor: orderV1.Actor | undefined): Actor => ({ customerId: actor?.customerId ?? '', admin: actor?.admin ?? false });

/** Thin adapter: proto in, use case, proto out; every error through the one mapper. */
export function createOrderCommandGrpcHandler(placeOrder: PlaceOrder, lifecycle: OrderLifecycle, logger: Logger): orderV1.OrderCommandServiceServer {
  const unary = unaryHandlers((error, method) => toGrpcError(error, logger, method));
  const orderResponse = (order: Order) => ({ order: toProtoOrder(order) });

  return {
    placeOrder: unary('PlaceOrder', async (req: orderV1.PlaceOrderRequest) => {
      const { order, replayed } = await placeOrder({
        customerId: req.customerId,
        idempotencyKey: req.idempotencyKey || undefined,
        keyMadeByGateway: req.idempotencyKeyMadeByGateway ?? false,
        items: req.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPriceMinor: i.unitPriceMinor })),
        address: req.address,
        paymentMethod: req.paymentMethod,
      });
      return { order: toProtoOrder(order), replayed };
    }),
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
