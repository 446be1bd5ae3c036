import mysql from 'mysql2/promise';
import type { KeyRow, OrderRow, Snapshot, StockRow, ViewRow } from './checks';

/** The databases of a system, as its environment (`systemEnv`) names them. */
export interface Databases {
  orderShards: mysql.Pool[];
  readShards: mysql.Pool[];
  inventory: mysql.Pool;
  close(): Promise<void>;
}

const pool = (host: string, port: number, database: string) =>
  mysql.createPool({ host, port, user: 'orderflow', password: 'orderflow', database, connectionLimit: 2 });
const pools = (spec: string) =>
  spec.split(',').map((entry) => {
    const [, host, port, database] = /^([^:]+):(\d+)\/(.+)$/.exec(entry)!;
    return pool(host!, Number(port), database!);
  });

export function openDatabases(env: Record<string, string>): Databases {
  const orderShards = pools(env.ORDER_SHARDS!);
  const readShards = pools(env.READ_SHARDS!);
  const inventory = pool(env.INVENTORY_MYSQL_HOST!, Number(env.INVENTORY_MYSQL_PORT), env.INVENTORY_MYSQL_DATABASE!);
  return { orderShards, readShards, inventory, close: async () => void (await Promise.all([...orderShards, ...readShards, inventory].map((p) => p.end()))) };
}

async function rows<T>(db: mysql.Pool, sql: string, params: unknown[]): Promise<T[]> {
  const [result] = await db.query(sql, params);
  return result as T[];
}

/** Everything the checks need about the customers whose ids start with `customerPrefix`, and the products. */
export async function readSnapshot(dbs: Databases, customerPrefix: string, productIds: string[]): Promise<Snapshot> {
  const like = `${customerPrefix}%`;
  const orders: OrderRow[] = [];
  const keys: KeyRow[] = [];
  let outboxRows = 0;
  let unsentOutbox = 0;
  for (const shard of dbs.orderShards) {
    const found = await rows<{ id: string; customer_id: string; status: string; version: number; stock_action: string | null; settled: number }>(
      shard,
      'SELECT CAST(id AS CHAR) AS id, customer_id, status, version, stock_action, stock_settled_at IS NOT NULL AS settled FROM orders WHERE customer_id LIKE ?',
      [like],
    );
    const items = await rows<{ order_id: string; product_id: string; quantity: number }>(
      shard,
      'SELECT CAST(i.order_id AS CHAR) AS order_id, i.product_id, i.quantity FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.customer_id LIKE ?',
      [like],
    );
    const itemsOf = new Map<string, OrderRow['items']>();
    for (const item of items)
      itemsOf.set(item.order_id, [...(itemsOf.get(item.order_id) ?? []), { productId: item.product_id, quantity: Number(item.quantity) }]);
    for (const o of found) {
      orders.push({
        id: o.id,
        customer: o.customer_id,
        status: o.status,
        version: Number(o.version),
        items: itemsOf.get(o.id) ?? [],
        stockAction: o.stock_action,
        stockSettled: Number(o.settled) === 1,
      });
    }
    for (const k of await rows<{ customer_id: string; idempotency_key: string; order_id: string; state: string }>(
      shard,
      'SELECT customer_id, idempotency_key, CAST(order_id AS CHAR) AS order_id, state FROM idempotency_keys WHERE customer_id LIKE ?',
      [like],
    )) {
      keys.push({ customer: k.customer_id, key: k.idempotency_key, orderId: k.order_id, state: k.state });
    }
    const [outbox] = await rows<{ n: number; unsent: number | null }>(
      shard,
      'SELECT COUNT(*) AS n, SUM(x.sent_at IS NULL) AS unsent FROM outbox x JOIN orders o ON o.id = x.order_id WHERE o.customer_id LIKE ?',
      [like],
    );
    outboxRows += Number(outbox!.n);
    unsentOutbox += Number(outbox!.unsent ?? 0);
  }
  const views: ViewRow[] = [];
  for (const shard of dbs.readShards) {
    for (const v of await rows<{ id: string; customer_id: string; status: string; version: number }>(
      shard,
      'SELECT CAST(order_id AS CHAR) AS id, customer_id, status, version FROM order_views WHERE customer_id LIKE ?',
      [like],
    )) {
      views.push({ id: v.id, customer: v.customer_id, status: v.status, version: Number(v.version) });
    }
  }
  const products = (
    await rows<{ id: string; available: number; reserved: number; sold: number; received: number }>(
      dbs.inventory,
      'SELECT id, available, reserved, sold, received FROM products WHERE id IN (?)',
      [productIds],
    )
  ).map<StockRow>((p) => ({ id: p.id, available: Number(p.available), reserved: Number(p.reserved), sold: Number(p.sold), received: Number(p.received) }));
  return { orders, views, keys, products, outboxRows, unsentOutbox };
}

/** Whether the stock adjustment recorded with this (unique) reason was applied: for a restock whose answer was lost. */
export async function adjustmentApplied(dbs: Databases, reason: string): Promise<number | undefined> {
  const found = await rows<{ delta: number }>(dbs.inventory, 'SELECT delta FROM stock_adjustments WHERE reason = ?', [reason]);
  return found.length === 0 ? undefined : found.reduce((sum, r) => sum + Number(r.delta), 0);
}
