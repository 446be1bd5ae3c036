import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { orderV1 } from '@orderflow/proto';
import type { Downstream } from '../../infrastructure/downstream';
import { toMinorUnits } from '../../domain/money';
import { RecentWrites, unseenWrites, withFresher } from '../../domain/recent-writes';
import { textProblems } from '../../domain/text';
import { Principal, principalOf } from './auth';
import type { GatewayMetrics } from './metrics';
import { presentOrder, presentOrderHistory } from './presenters';
import { isGrpcError, validationProblem } from './problems';
import { routeSchemas } from './schemas';

interface PlaceOrderBody {
  items: { product_id: string; quantity: number; unit_price: number }[];
  address: string;
  payment_method: string;
}

type IdParams = { Params: { id: string } };

export interface OrdersRoutesDeps {
  downstream: Downstream;
  metrics: GatewayMetrics;
  schemas: ReturnType<typeof routeSchemas>;
  recentWrites: RecentWrites;
  /** How long a read waits for the projection to reach this gateway's last write of an order. */
  readWaitMs: number;
}

/**
 * The gateway's own key for a placement sent without one: unique (a client's key in the same namespace
 * would have to guess a random UUID), scoped like any key to the customer, purged with the others.
 */
const internalIdempotencyKey = () => `~gateway:${randomUUID()}`;

const isMissingOrDown = (error: unknown) => isGrpcError(error) && (error.code === GrpcStatus.NOT_FOUND || error.code === GrpcStatus.UNAVAILABLE);

export function ordersRoutes({ downstream, metrics, schemas, recentWrites, readWaitMs }: OrdersRoutesDeps) {
  const actor = (p: Principal, admin = p.admin) => ({ customerId: p.customerId, admin });
  const written = (order: orderV1.Order) => {
    recentWrites.record({ orderId: order.id, customerId: order.customerId, version: order.version });
    return order;
  };

  /**
   * Read-your-writes: the read side at the version of this gateway's last write of the order, waiting
   * up to readWaitMs for the projection; if it is still behind (or down, or has not the order yet),
   * the command side, which has every write.
   */
  const readOrder = async (orderId: string, who: ReturnType<typeof actor>, requestId: string): Promise<orderV1.Order> => {
    const minVersion = recentWrites.versionOf(orderId);
    try {
      const { order } = await downstream.getOrder({ orderId, actor: who, minVersion, waitMs: minVersion > 0 ? readWaitMs : 0 }, requestId);
      if (order!.version >= minVersion) return order!;
    } catch (error) {
      if (!isMissingOrDown(error)) throw error;
    }
    return (await downstream.getOrderFromCommand({ orderId, actor: who }, requestId)).order!;
  };
  return async (app: FastifyInstance) => {
    app.post<{ Body: PlaceOrderBody }>('/api/orders', { schema: schemas.placeOrder, config: { auth: 'customer' } }, async (request, reply) => {
      const principal = principalOf(request);
      const invalid = textProblems({ address: request.body.address, payment_method: request.body.payment_method });
      const items = request.body.items.map((item, i) => {
        const unitPriceMinor = toMinorUnits(item.unit_price);
        if (unitPriceMinor === undefined) invalid.push({ field: `items[${i}].unit_price`, message: 'must have at most 2 decimal places' });
        return { productId: item.product_id, quantity: item.quantity, unitPriceMinor: unitPriceMinor ?? 0 };
      });
      if (invalid.length > 0) throw validationProblem(invalid);
      try {
        const clientKey = request.headers['idempotency-key'] as string | undefined;
        const { order, replayed } = await downstream.placeOrder(
          {
            customerId: principal.customerId, // always from the token, never from the body
            // Every placement has a key, so a call cut off (a replica died) is repeated without making a
            // second order: the client's key, or one of the gateway's own for this request.
            idempotencyKey: clientKey ?? internalIdempotencyKey(),
            // Only its own key, read by nobody but its own repeat, lets order-command skip the claim (ADR 0007).
            idempotencyKeyMadeByGateway: clientKey === undefined,
            items,
            address: request.body.address,
            paymentMethod: request.body.payment_method,
          },
          request.id,
        );
        written(order!);
        // A replay under the gateway's own key is this request's order, first answered to a call cut off.
        if (!replayed || clientKey === undefined) metrics.ordersPlaced.inc();
        if (replayed && clientKey !== undefined) reply.header('idempotency-replayed', 'true');
        return reply.code(201).header('location', `/api/orders/${order!.id}`).send(presentOrder(order!));
      } catch (error) {
        if (isGrpcError(error)) metrics.ordersRejected.inc({ type: error.code === GrpcStatus.UNAVAILABLE ? 'unavailable' : 'refused' });
        throw error;
      }
    });

    app.get<IdParams>('/api/orders/:id', { schema: schemas.getOrder, config: { auth: 'customer' } }, async (request) => {
      const principal = principalOf(request);
      return presentOrder(await readOrder(request.params.id, actor(principal), request.id));
    });

    app.get<IdParams>('/api/orders/:id/history', { schema: schemas.getOrderHistory, config: { auth: 'customer' } }, async (request) => {
      const principal = principalOf(request);
      return presentOrderHistory(await downstream.getOrderHistory({ orderId: request.params.id, actor: actor(principal) }, request.id));
    });

    app.get<{ Querystring: { page_size?: number; page_token?: string } }>(
      '/api/orders',
      { schema: schemas.listOrders, config: { auth: 'customer' } },
      async (request) => {
        const principal = principalOf(request);
        const pageToken = request.query.page_token ?? '';
        const pageSize = request.query.page_size ?? 20;
        const list = (size: number) => downstream.listOrders({ customerId: principal.customerId, pageSize: size, pageToken }, request.id);
        let { orders, nextPageToken } = await list(pageSize);
        // Read-your-writes on the first page: the customer's own recent writes through this gateway show.
        const unseen = pageToken ? [] : unseenWrites(orders, nextPageToken !== '', recentWrites.ofCustomer(principal.customerId));
        if (unseen.length > 0) {
          const who = actor(principal);
          const missing = unseen.filter((w) => !orders.some((o) => o.id === w.orderId)).length;
          const fresher = await Promise.all(
            unseen.map((w) => readOrder(w.orderId, who, request.id).catch((error: unknown) => (isMissingOrDown(error) ? undefined : Promise.reject(error)))),
          );
          // The projection has had its wait. List again, leaving room for the orders it still lacks (the
          // page token then points just below what is listed: no gap), and mend what is still behind.
          ({ orders, nextPageToken } = await list(Math.max(1, pageSize - missing)));
          const stillUnseen = new Set(unseenWrites(orders, nextPageToken !== '', unseen).map((w) => w.orderId));
          orders = withFresher(
            orders,
            fresher.filter((o): o is orderV1.Order => o !== undefined && stillUnseen.has(o.id)),
            pageSize - orders.length,
          );
        }
        return { orders: orders.map(presentOrder), next_page_token: nextPageToken };
      },
    );

    const transition = (action: 'cancel' | 'pay' | 'ship') => async (request: FastifyRequest<IdParams>) => {
      const principal = principalOf(request);
      const orderId = request.params.id;
      const call =
        action === 'cancel'
          ? () => downstream.cancelOrder({ orderId, actor: actor(principal) }, request.id)
          : action === 'pay'
            ? () => downstream.payOrder({ orderId, actor: actor(principal, false) }, request.id) // the owner pays; an admin is not the owner
            : () => downstream.shipOrder({ orderId, actor: actor(principal) }, request.id); // the route is admin-only
      const { order } = await call();
      metrics.orderTransitions.inc({ action });
      return presentOrder(written(order!));
    };

    app.post<IdParams>('/api/orders/:id/cancel', { schema: schemas.cancelOrder, config: { auth: 'customer' } }, transition('cancel'));
    app.post<IdParams>('/api/orders/:id/pay', { schema: schemas.payOrder, config: { auth: 'customer' } }, transition('pay'));
    app.post<IdParams>('/api/orders/:id/ship', { schema: schemas.shipOrder, config: { auth: 'admin' } }, transition('ship'));
  };
}
