import { affectedRows, isDuplicateKey, isTransientConflict, rowsOf, SqlPool, SqlTransaction, toSqlDateTime } from '@orderflow/database';
import { ShardRouter } from '@orderflow/sharding';
import { QueryTypes, Sequelize } from 'sequelize';
import type { OrderEvent, OrderItem, OrderStatus, OrderView } from '../domain/model';
import type { OrderViewStore } from '../domain/ports';
import type { ProjectedState, ProjectionDecision } from '../domain/projection';

interface ViewRow {
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  total_minor: number | string;
  address: string;
  payment_method: string;
  version: number | string;
  items: string;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
}

// Ids are 64-bit: read them as strings, never through a JS number, and compare them as integers
// (CAST), never as strings against a BIGINT column (MySQL would compare doubles).
const VIEW_COLUMNS = `CAST(v.order_id AS CHAR) AS order_id, v.customer_id, v.status, v.total_minor, v.address, v.payment_method, v.version,
  v.items, v.created_at, v.updated_at, v.expires_at`;

function toView(row: ViewRow): OrderView {
  const items = JSON.parse(row.items) as { product_id: string; quantity: number; unit_price_minor: number }[];
  return {
    id: row.order_id,
    customerId: row.customer_id,
    status: row.status,
    items: items.map((i): OrderItem => ({ productId: i.product_id, quantity: Number(i.quantity), unitPriceMinor: Number(i.unit_price_minor) })),
    totalMinor: Number(row.total_minor),
    address: row.address,
    paymentMethod: row.payment_method,
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
  };
}

/** At most this many runs of one projection transaction: a lost insert race or a deadlock runs it again. */
const ATTEMPTS = 3;

/**
 * Order views on the read shards: `shards[i]` is read shard i, the router picks it by the bucket an
 * order id carries, or by the customer (the same bucket: events whose id does not carry the customer's
 * bucket are refused before they get here), so an order's view and its listing row share a shard.
 */
export class SequelizeOrderViewStore implements OrderViewStore {
  /** `shards` (Sequelize) serves the queries; `sql` (plain mysql2, one pool per read shard) the projection: two round trips per event. */
  constructor(
    private readonly shards: Sequelize[],
    private readonly router: ShardRouter,
    private readonly sql: SqlPool[],
  ) {
    if (shards.length !== router.shardCount) throw new Error(`${shards.length} read shard databases for a map of ${router.shardCount} shards`);
    if (sql.length !== router.shardCount) throw new Error(`${sql.length} read shard pools for a map of ${router.shardCount} shards`);
  }

  private forOrder(orderId: string): Sequelize {
    return this.shards[this.router.shardForOrderId(orderId)] as Sequelize;
  }

  private forCustomer(customerId: string): Sequelize {
    return this.shards[this.router.shardForCustomer(customerId)] as Sequelize;
  }

  async project(event: OrderEvent, decide: (current: ProjectedState | undefined) => ProjectionDecision, projectedAt: Date): Promise<ProjectionDecision> {
    const pool = this.sql[this.router.shardForOrderId(event.orderId)] as SqlPool;
    for (let attempt = 1; ; attempt++) {
      try {
        return await pool.transaction((tx) => this.projectIn(tx, event, decide, projectedAt));
      } catch (error) {
        // Two consumers inserting version 1 at once: the loser runs again and sees a duplicate.
        if (attempt < ATTEMPTS && (isDuplicateKey(error) || isTransientConflict(error))) continue;
        throw error;
      }
    }
  }

  async get(orderId: string): Promise<OrderView | undefined> {
    const [row] = await this.forOrder(orderId).query<ViewRow>(`SELECT ${VIEW_COLUMNS} FROM order_views v WHERE v.order_id = CAST(:id AS UNSIGNED)`, {
      replacements: { id: orderId },
      type: QueryTypes.SELECT,
    });
    return row ? toView(row) : undefined;
  }

  async listByCustomer(customerId: string, beforeOrderId: string | undefined, limit: number): Promise<OrderView[]> {
    const rows = await this.forCustomer(customerId).query<ViewRow>(
      `SELECT ${VIEW_COLUMNS} FROM customer_orders c JOIN order_views v ON v.order_id = c.order_id
       WHERE c.customer_id = :customerId ${beforeOrderId === undefined ? '' : 'AND c.order_id < CAST(:before AS UNSIGNED)'}
       ORDER BY c.order_id DESC LIMIT :limit`,
      { replacements: { customerId, before: beforeOrderId ?? null, limit }, type: QueryTypes.SELECT },
    );
    return rows.map(toView);
  }

  private async projectIn(
    tx: SqlTransaction,
    event: OrderEvent,
    decide: (current: ProjectedState | undefined) => ProjectionDecision,
    projectedAt: Date,
  ): Promise<ProjectionDecision> {
    // Round trip 1 (opens the transaction): the view's version, locked.
    const [locked] = await tx.run([{ sql: `SELECT version, customer_id FROM order_views WHERE order_id = CAST(? AS UNSIGNED) FOR UPDATE`, values: [event.orderId] }]);
    const [current] = rowsOf<{ version: number | string; customer_id: string }>(locked);
    const decision = decide(current ? { version: Number(current.version), customerId: current.customer_id } : undefined);
    if (decision !== 'insert' && decision !== 'apply') return decision; // nothing written; the pool ends the transaction

    const { order } = event;
    const createdAt = toSqlDateTime(order.createdAt);
    const items = JSON.stringify(order.items.map((i) => ({ product_id: i.productId, quantity: i.quantity, unit_price_minor: i.unitPriceMinor })));
    const common = [order.status, order.totalMinor, order.address, order.paymentMethod, order.version, createdAt, toSqlDateTime(order.updatedAt), toSqlDateTime(order.expiresAt), items, event.eventId, toSqlDateTime(event.occurredAt), toSqlDateTime(projectedAt)];
    // Round trip 2: both read tables and the COMMIT.
    if (decision === 'insert') {
      await tx.commitWith([
        {
          sql: `INSERT INTO order_views (order_id, customer_id, status, total_minor, address, payment_method, version, created_at, updated_at, expires_at,
                  items, last_event_id, event_occurred_at, projected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          values: [order.id, order.customerId, ...common],
        },
        {
          sql: `INSERT INTO customer_orders (customer_id, order_id, status, total_minor, version, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
          values: [order.customerId, order.id, order.status, order.totalMinor, order.version, createdAt],
        },
      ]);
      return decision;
    }
    // The row is locked and was at version - 1; the version guard only restates that.
    const [view] = await tx.run([
      {
        sql: `UPDATE order_views SET status = ?, total_minor = ?, address = ?, payment_method = ?, version = ?, created_at = ?, updated_at = ?, expires_at = ?,
                items = ?, last_event_id = ?, event_occurred_at = ?, projected_at = ?
              WHERE order_id = CAST(? AS UNSIGNED) AND version = ?`,
        values: [...common, order.id, order.version - 1],
      },
      {
        sql: `UPDATE customer_orders SET status = ?, total_minor = ?, version = ? WHERE customer_id = ? AND order_id = CAST(? AS UNSIGNED)`,
        values: [order.status, order.totalMinor, order.version, order.customerId, order.id],
      },
    ]);
    if (affectedRows(view) !== 1) throw new Error(`order view ${order.id} changed under its row lock`);
    return decision; // committed by the pool
  }
}
