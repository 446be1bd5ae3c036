import { orderQueryV1, orderV1 } from '@orderflow/proto';
import { type Logger, unaryHandlers } from '@orderflow/service-kit';
import type { GetProjectionLag } from '../domain/get-projection-lag.use-case';
import type { Actor } from '../domain/model';
import type { OrderQueries } from '../domain/order-queries.use-cases';
import { toProtoOrder } from '../infrastructure/order-proto.mapper';
import { toGrpcError } from './grpc-error.mapper';

const actorOf = (actor: orderV1.Actor | undefined): Actor | undefined => actor && { customerId: actor.customerId, admin: actor.admin };

/** Thin adapter: proto in, use case, proto out; every error through the one mapper. */
export function createOrderQueryGrpcHandler(queries: OrderQueries, getProjectionLag: GetProjectionLag, logger: Logger): orderQueryV1.OrderQueryServiceServer {
  const unary = unaryHandlers((error, method) => toGrpcError(error, logger, method));

  return {
    getOrder: unary('GetOrder', async (req: orderQueryV1.GetOrderRequest) => ({
      order: toProtoOrder(await queries.getOrder({ orderId: req.orderId, actor: actorOf(req.actor), minVersion: req.minVersion, waitMs: req.waitMs })),
    })),
    listOrders: unary('ListOrders', async (req: orderQueryV1.ListOrdersRequest) => {
      const page = await queries.listOrders({ customerId: req.customerId, pageSize: req.pageSize, pageToken: req.pageToken });
      return { orders: page.orders.map(toProtoOrder), nextPageToken: page.nextPageToken };
    }),
    getProjectionLag: unary('GetProjectionLag', async () => {
      const lag = await getProjectionLag();
      return {
        eventsBehind: lag.eventsBehind,
        secondsBehind: lag.secondsBehind,
        eventsApplied: lag.eventsApplied,
        eventsDeadLettered: lag.eventsDeadLettered,
        lastAppliedAt: lag.lastAppliedAt,
      };
    }),
  };
}
