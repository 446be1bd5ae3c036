import type { FastifyInstance, FastifyRequest } from 'fastify';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Downstream } from '../../infrastructure/downstream';
import { toMinorUnits } from '../../domain/money';
import { Principal, principalOf } from './auth';
import type { GatewayMetrics } from './metrics';
import { presentOrder } from './presenters';
import { isGrpcError, validationProblem } from './problems';
import { routeSchemas } from './schemas';

interface PlaceOrderBody {
  items: { product_id: string; quantity: number; unit_price: number }[];
  address: string;
  payment_method: string;
}

type IdParams = { Params: { id: string } };

export function ordersRoutes(downstream: Downstream, metrics: GatewayMetrics, schemas: ReturnType<typeof routeSchemas>) {
  const actor = (p: Principal, admin = p.admin) => ({ customerId: p.customerId, admin });

  return async (app: FastifyInstance) => {
    app.post<{ Body: PlaceOrderBody }>('/api/orders', { schema: schemas.placeOrder, config: { auth: 'customer' } }, async (request, reply) => {
      const principal = principalOf(request);
      const items = request.body.items.map((item, i) => {
        const unitPriceMinor = toMinorUnits(item.unit_price);
        if (unitPriceMinor === undefined) throw validationProblem([{ field: `items[${i}].unit_price`, message: 'must have at most 2 decimal places' }]);
        return { productId: item.product_id, quantity: item.quantity, unitPriceMinor };
      });
      try {
        const { order, replayed } = await downstream.placeOrder({
          customerId: principal.customerId, // always from the token, never from the body
          idempotencyKey: (request.headers['idempotency-key'] as string | undefined) ?? '',
          items,
          address: request.body.address,
          paymentMethod: request.body.payment_method,
        });
        if (!replayed) metrics.ordersPlaced.inc();
        if (replayed) reply.header('idempotency-replayed', 'true');
        return reply.code(201).header('location', `/api/orders/${order!.id}`).send(presentOrder(order!));
      } catch (error) {
        if (isGrpcError(error)) metrics.ordersRejected.inc({ type: error.code === GrpcStatus.UNAVAILABLE ? 'unavailable' : 'refused' });
        throw error;
      }
    });

    app.get<IdParams>('/api/orders/:id', { schema: schemas.getOrder, config: { auth: 'customer' } }, async (request) => {
      const principal = principalOf(request);
      try {
        const { order } = await downstream.getOrder({ orderId: request.params.id, actor: actor(principal), minVersion: 0, waitMs: 0 });
        return presentOrder(order!);
      } catch (error) {
        // Read-your-writes: the projection may not have the order yet; the command side has it.
        if (!isGrpcError(error) || (error.code !== GrpcStatus.NOT_FOUND && error.code !== GrpcStatus.UNAVAILABLE)) throw error;
        const { order } = await downstream.getOrderFromCommand({ orderId: request.params.id, actor: actor(principal) });
        return presentOrder(order!);
      }
    });

    app.get<{ Querystring: { page_size?: number; page_token?: string } }>('/api/orders', { schema: schemas.listOrders, config: { auth: 'customer' } }, async (request) => {
      const principal = principalOf(request);
      const { orders, nextPageToken } = await downstream.listOrders({
        customerId: principal.customerId,
        pageSize: request.query.page_size ?? 20,
        pageToken: request.query.page_token ?? '',
      });
      return { orders: orders.map(presentOrder), next_page_token: nextPageToken };
    });

    const transition =
      (action: 'cancel' | 'pay' | 'ship') =>
      async (request: FastifyRequest<IdParams>) => {
        const principal = principalOf(request);
        const orderId = request.params.id;
        const call =
          action === 'cancel'
            ? () => downstream.cancelOrder({ orderId, actor: actor(principal) })
            : action === 'pay'
              ? () => downstream.payOrder({ orderId, actor: actor(principal, false) }) // the owner pays; an admin is not the owner
              : () => downstream.shipOrder({ orderId, actor: actor(principal) }); // the route is admin-only
        const { order } = await call();
        metrics.orderTransitions.inc({ action });
        return presentOrder(order!);
      };

    app.post<IdParams>('/api/orders/:id/cancel', { schema: schemas.cancelOrder, config: { auth: 'customer' } }, transition('cancel'));
    app.post<IdParams>('/api/orders/:id/pay', { schema: schemas.payOrder, config: { auth: 'customer' } }, transition('pay'));
    app.post<IdParams>('/api/orders/:id/ship', { schema: schemas.shipOrder, config: { auth: 'admin' } }, transition('ship'));
  };
}

