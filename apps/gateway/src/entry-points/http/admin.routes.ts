import { orderV1 } from '@orderflow/proto';
import type { FastifyInstance } from 'fastify';
import type { Downstream } from '../../infrastructure/downstream';
import { principalOf } from './auth';
import { presentOrder } from './presenters';
import type { routeSchemas } from './schemas';

type OrderStatusName = 'RESERVED' | 'PAID' | 'SHIPPED' | 'CANCELLED' | 'EXPIRED';

const STATUS: Record<OrderStatusName, orderV1.OrderStatus> = {
  RESERVED: orderV1.OrderStatus.ORDER_STATUS_RESERVED,
  PAID: orderV1.OrderStatus.ORDER_STATUS_PAID,
  SHIPPED: orderV1.OrderStatus.ORDER_STATUS_SHIPPED,
  CANCELLED: orderV1.OrderStatus.ORDER_STATUS_CANCELLED,
  EXPIRED: orderV1.OrderStatus.ORDER_STATUS_EXPIRED,
};

interface ListAllOrdersQuery {
  status?: OrderStatusName;
  customer_id?: string;
  page_size?: number;
  page_token?: string;
}

/** Admin views: admin-only routes (access control answers 401/403 before any 400). */
export function adminRoutes(downstream: Downstream, schemas: ReturnType<typeof routeSchemas>) {
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: ListAllOrdersQuery }>('/api/admin/orders', { schema: schemas.listAllOrders, config: { auth: 'admin' } }, async (request) => {
      const principal = principalOf(request);
      const { orders, nextPageToken } = await downstream.listAllOrders(
        {
          actor: { customerId: principal.customerId, admin: principal.admin },
          status: request.query.status ? STATUS[request.query.status] : orderV1.OrderStatus.ORDER_STATUS_UNSPECIFIED,
          customerId: request.query.customer_id ?? '',
          pageSize: request.query.page_size ?? 20,
          pageToken: request.query.page_token ?? '',
        },
        request.id,
      );
      return { orders: orders.map(presentOrder), next_page_token: nextPageToken };
    });
  };
}
