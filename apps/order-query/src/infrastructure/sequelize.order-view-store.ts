import { isDuplicateKey, isTransientConflict, toSqlDateTime } from '@orderflow/database';
import { ShardRouter } from '@orderflow/sharding';
import { QueryTypes, Sequelize, Transaction } from 'sequelize';
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
  constructor(
    private readonly shards: Sequelize[],
    private readonly router: ShardRouter,
  ) {
    if (shards.length !== router.shardCount) throw new Error(`${shards.length} read shard databases for a map of ${router.shardCount} shards`);
  }

  private forOrder(orderId: string): Sequelize {
    return this.shards[this.router.shardForOrderId(orderId)] as Sequelize;
  }

  private forCustomer(customerId: string): Sequelize {
    return this.shards[this.router.shardForCustomer(customerId)] as Sequelize;
  }

  async project(event: OrderEvent, decide: (current: ProjectedState | undefined) => ProjectionDecision, projectedAt: Date): Promise<ProjectionDecision> {
    const db = this.forOrder(event.orderId);
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction((transaction) => this.projectIn(db, transaction, event, decide, projectedAt));
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
    db: Sequelize,
    transaction: Transaction,
    event: OrderEvent,
    decide: (current: ProjectedState | undefined) => ProjectionDecision,
    projectedAt: Date,
  ): Promise<ProjectionDecision> {
    const [current] = await db.query<{ version: number | string; customer_id: string }>(
      `SELECT version, customer_id FROM order_views WHERE order_id = CAST(:id AS UNSIGNED) FOR UPDATE`,
      { replacements: { id: event.orderId }, type: QueryTypes.SELECT, transaction },
    );
    const decision = decide(current ? { version: Number(current.version), customerId: current.customer_id } : undefined);
    if (decision !== 'insert' && decision !== 'apply') return decision;

    const { order } = event;
    const values = {
      id: order.id,
      customerId: order.customerId,
      status: order.status,
      total: order.totalMinor,
      address: order.address,
      paymentMethod: order.paymentMethod,
      version: order.version,
      previous: order.version - 1,
      createdAt: toSqlDateTime(order.createdAt),
      updatedAt: toSqlDateTime(order.updatedAt),
      expiresAt: toSqlDateTime(order.expiresAt),
      items: JSON.stringify(order.items.map((i) => ({ product_id: i.productId, quantity: i.quantity, unit_price_minor: i.unitPriceMinor }))),
      eventId: event.eventId,
      occurredAt: toSqlDateTime(event.occurredAt),
      projectedAt: toSqlDateTime(projectedAt),
    };
    if (decision === 'insert') {
      await db.query(
        `INSERT INTO order_views (order_id, customer_id, status, total_minor, address, payment_method, version, created_at, updated_at, expires_at,
           items, last_event_id, event_occurred_at, projected_at)
         VALUES (:id, :customerId, :status, :total, :address, :paymentMethod, :version, :createdAt, :updatedAt, :expiresAt,
           :items, :eventId, :occurredAt, :projectedAt)`,
        { replacements: values, type: QueryTypes.INSERT, transaction },
      );
      await db.query(
        `INSERT INTO customer_orders (customer_id, order_id, status, total_minor, version, created_at)
         VALUES (:customerId, :id, :status, :total, :version, :createdAt)`,
        { replacements: values, type: QueryTypes.INSERT, transaction },
      );
      return decision;
    }
    // The row is locked and was at `previous`; the version guard only restates that.
    const [, affected] = await db.query(
      `UPDATE order_views SET status = :status, total_minor = :total, address = :address, payment_method = :paymentMethod, version = :version,
         created_at = :createdAt, updated_at = :updatedAt, expires_at = :expiresAt, items = :items, last_event_id = :eventId,
         event_occurred_at = :occurredAt, projected_at = :projectedAt
       WHERE order_id = CAST(:id AS UNSIGNED) AND version = :previous`,
      { replacements: values, type: QueryTypes.UPDATE, transaction },
    );
    if (affected !== 1) throw new Error(`order view ${order.id} changed under its row lock`);
    await db.query(
      `UPDATE customer_orders SET status = :status, total_minor = :total, version = :version
       WHERE customer_id = :customerId AND order_id = CAST(:id AS UNSIGNED)`,
      { replacements: values, type: QueryTypes.UPDATE, transaction },
    );
    return decision;
  }
}
