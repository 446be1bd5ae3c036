import { orderQueryV1, orderStatusFromProto, orderToProto, orderV1 } from '@orderflow/proto';
import { ANSWER_MARGIN_MS, cappedWaitMs, type Logger, unaryHandlers } from '@orderflow/service-kit';
import type { GetProjectionLag } from '../domain/get-projection-lag.use-case';
import type { ListAllOrders } from '../domain/list-all-orders.use-case';
import type { Actor } from '../domain/model';
import type { OrderQueries } from '../domain/order-queries.use-cases';
import { toGrpcError } from './grpc-error.mapper';

const actorOf = (actor: orderV1.Actor | undefined): Actor | undefined => actor && { customerId: actor.customerId, admin: actor.admin };

/** UNSPECIFIED: any status; a number that is no status is passed on by name so validation refuses it. */
const statusFilterOf = (status: orderV1.OrderStatus): string | undefined =>
  status === orderV1.OrderStatus.ORDER_STATUS_UNSPECIFIED ? undefined : (orderStatusFromProto(status) ?? `unknown (${status})`);

export interface OrderQueryUseCases {
  queries: OrderQueries;
  listAllOrders: ListAllOrders;
  getProjectionLag: GetProjectionLag;
}

/** Thin adapter: proto in, use case, proto out; every error through the one mapper. */
export function createOrderQueryGrpcHandler(
  { queries, listAllOrders, getProjectionLag }: OrderQueryUseCases,
  logger: Logger,
): orderQueryV1.OrderQueryServiceServer {
  const unary = unaryHandlers((error, method) => toGrpcError(error, logger, method));

  return {
    getOrder: unary('GetOrder', async (req: orderQueryV1.GetOrderRequest) => ({
      // The wait for min_version ends before the caller's deadline, so it gets the version there is, not DEADLINE_EXCEEDED.
      order: orderToProto(
        await queries.getOrder({
          orderId: req.orderId,
          actor: actorOf(req.actor),
          minVersion: req.minVersion,
          waitMs: cappedWaitMs(req.waitMs, ANSWER_MARGIN_MS),
        }),
      ),
    })),
    listOrders: unary('ListOrders', async (req: orderQueryV1.ListOrdersRequest) => {
      const page = await queries.listOrders({ customerId: req.customerId, pageSize: req.pageSize, pageToken: req.pageToken });
      return { orders: page.orders.map(orderToProto), nextPageToken: page.nextPageToken };
    }),
    listAllOrders: unary('ListAllOrders', async (req: orderQueryV1.ListAllOrdersRequest) => {
      const page = await listAllOrders({
        actor: actorOf(req.actor),
        status: statusFilterOf(req.status),
        customerId: req.customerId,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return { orders: page.orders.map(orderToProto), nextPageToken: page.nextPageToken };
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
