import { rowsOf, Statement, StatementResult, toSqlDateTime } from '@orderflow/database';
import type { OrderEvent } from '../../domain/model';
import type { ProjectedState } from '../../domain/projection';

// The projection's SQL. Ids are 64-bit: sent and read as strings, compared as integers (CAST), never as
// strings against the BIGINT column.

/** Locks the orders' views (SELECT ... FOR UPDATE): read back with lockedStates. */
export function lockViews(orderIds: string[]): Statement {
  return {
    sql: `SELECT CAST(order_id AS CHAR) AS order_id, version, customer_id FROM order_views
          WHERE order_id IN (${orderIds.map(() => 'CAST(? AS UNSIGNED)').join(', ')}) FOR UPDATE`,
    values: orderIds,
  };
}

/** What lockViews found, by order id; orders without a view are absent. */
export function lockedStates(result: StatementResult | undefined): Map<string, ProjectedState> {
  const rows = rowsOf<{ order_id: string; version: number | string; customer_id: string }>(result);
  return new Map(rows.map((row) => [row.order_id, { version: Number(row.version), customerId: row.customer_id }]));
}

/**
 * The writes of an event that applies, view first, then the customer's listing row. 'insert': both
 * rows are new (a view already there fails the INSERT: a duplicate key). 'apply': both are updated,
 * each guarded so that it cannot apply anything but the next version, with or without a row lock held:
 * the view's UPDATE by the previous version and the customer (its affected-row count, 1 or 0, says
 * whether it applied), the listing's by the view holding this very event afterwards. So a projection
 * may send them on a guess of what is stored (order-view.store.ts: `projectAtOnce`) and commit them
 * whatever the guess was worth.
 */
export function projectionWrites(event: OrderEvent, decision: 'insert' | 'apply', projectedAt: Date): Statement[] {
  const { order } = event;
  const createdAt = toSqlDateTime(order.createdAt);
  const items = JSON.stringify(order.items.map((i) => ({ product_id: i.productId, quantity: i.quantity, unit_price_minor: i.unitPriceMinor })));
  const common = [
    order.status,
    order.totalMinor,
    order.address,
    order.paymentMethod,
    order.version,
    createdAt,
    toSqlDateTime(order.updatedAt),
    toSqlDateTime(order.expiresAt),
    items,
    event.eventId,
    toSqlDateTime(event.occurredAt),
    toSqlDateTime(projectedAt),
  ];
  if (decision === 'insert') {
    return [
      {
        sql: `INSERT INTO order_views (order_id, customer_id, status, total_minor, address, payment_method, version, created_at, updated_at, expires_at,
                items, last_event_id, event_occurred_at, projected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        values: [order.id, order.customerId, ...common],
      },
      {
        sql: `INSERT INTO customer_orders (customer_id, order_id, status, total_minor, version, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
        values: [order.customerId, order.id, order.status, order.totalMinor, order.version, createdAt],
      },
    ];
  }
  return [
    {
      sql: `UPDATE order_views SET status = ?, total_minor = ?, address = ?, payment_method = ?, version = ?, created_at = ?, updated_at = ?, expires_at = ?,
              items = ?, last_event_id = ?, event_occurred_at = ?, projected_at = ?
            WHERE order_id = CAST(? AS UNSIGNED) AND version = ? AND customer_id = ?`,
      values: [...common, order.id, order.version - 1, order.customerId],
    },
    {
      sql: `UPDATE customer_orders SET status = ?, total_minor = ?, version = ? WHERE customer_id = ? AND order_id = CAST(? AS UNSIGNED)
              AND EXISTS (SELECT 1 FROM order_views WHERE order_id = CAST(? AS UNSIGNED) AND version = ? AND last_event_id = ?)`,
      values: [order.status, order.totalMinor, order.version, order.customerId, order.id, order.id, order.version, event.eventId],
    },
  ];
}
