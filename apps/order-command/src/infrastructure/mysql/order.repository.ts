import { affectedRows, GroupCommitter, isDuplicateKey, isTransientConflict, rowsOf, SqlPool, Statement, toSqlDateTime } from '@orderflow/database';
import { type FencedRoute, fenceManyStatement, fenceStatement, heldBucketCondition, type LiveShardMap, writeFenced } from '@orderflow/shard-control';
import { bucketOfOrderId, forEachShard, ShardRouter } from '@orderflow/sharding';
import { activeTraceparent } from '@orderflow/telemetry';
import type { ChangedBy, Order, OrderEventRecord, OrderHistoryEntry, OrderItem, OrderStatus, StockAction } from '../../domain/model';
import type { TransitionSpec } from '../../domain/order-state-machine';
import type { ClaimResult, IdempotencyRecord, KeyedInsertResult, OrderRepository, PurgeBatch, RetentionStore, StoredOutcome } from '../../domain/ports';
import { encodeOrderEvent } from '../event-codec';
import { decodeOutcome, encodeOutcome } from '../outcome-codec';

/** A row as mysql2 returns it: BIGINT and DECIMAL as strings (bigNumberStrings), DATETIME as Date. */
interface OrderRow {
  id: string;
  customer_id: string;
  status: OrderStatus;
  total_minor: number | string;
  address: string;
  payment_method: string;
  version: number | string;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
  product_id: string | null;
  quantity: number | null;
  unit_price_minor: number | string | null;
}

interface IdempotencyRow {
  fingerprint: string;
  order_id: string;
  state: 'IN_FLIGHT' | 'DONE';
  owner: string | null;
  response: Buffer | null;
}

interface HistoryRow {
  version: number | string;
  status: OrderStatus;
  occurred_at: Date;
  actor_kind: ChangedBy['kind'];
  actor_id: string | null;
  reason: string;
}

// Ids are 64-bit: read them as strings, never through a JS number.
const ORDER_SELECT = `SELECT CAST(o.id AS CHAR) AS id, o.customer_id, o.status, o.total_minor, o.address, o.payment_method, o.version,
  o.created_at, o.updated_at, o.expires_at, i.product_id, i.quantity, i.unit_price_minor
  FROM orders o LEFT JOIN order_items i ON i.order_id = o.id WHERE o.id = ? ORDER BY i.line_no`;

/** Rows of the buckets this shard holds (a move's copies, and the rows a switch left behind, are not its work). */
const HELD_ORDERS = heldBucketCondition('id');

function toOrder(rows: OrderRow[]): Order | undefined {
  const [first] = rows;
  if (!first) return undefined;
  return {
    id: first.id,
    customerId: first.customer_id,
    status: first.status,
    items: rows
      .filter((r) => r.product_id !== null)
      .map((r) => ({ productId: r.product_id as string, quantity: Number(r.quantity), unitPriceMinor: Number(r.unit_price_minor) })),
    totalMinor: Number(first.total_minor),
    address: first.address,
    paymentMethod: first.payment_method,
    version: Number(first.version),
    createdAt: first.created_at,
    updatedAt: first.updated_at,
    expiresAt: first.expires_at,
  };
}

/** How routed writes meet a bucket that is moving between shards (ADR 0009). */
export interface FencedWriteSettings {
  /** How long a write may wait for a bucket's switch to end, read per write (the configured bound capped by the call's deadline). */
  maxWaitMs(): number;
  /** Each refusal by a shard's fence (a metric). */
  onFenced?(): void;
  /** A write that was refused at least once ended (stored or not) after waiting this long in all (a metric). */
  onFenceWait?(ms: number): void;
}

/** A placed order's bucket and the map version it was routed with: what its transaction's fence checks. */
interface PlacementRoute {
  bucket: number;
  version: number;
}

/**
 * The fence a group-committed transaction of placed orders opens with: ONE statement over the buckets of all
 * its orders (`orderflow_fence` for one bucket, `orderflow_fence_many` for several), per map version they
 * were routed with (one, unless the map changed between them). A refusal stops the transaction before any
 * write; the group commit then writes each order alone, behind its own bucket's fence.
 */
function placementFence(routes: PlacementRoute[]): Statement[] {
  const bucketsByVersion = new Map<number, Set<number>>();
  for (const { bucket, version } of routes) bucketsByVersion.set(version, (bucketsByVersion.get(version) ?? new Set()).add(bucket));
  return [...bucketsByVersion].map(([version, set]) => {
    const buckets = [...set];
    return buckets.length === 1 ? fenceStatement(buckets[0] as number, version) : fenceManyStatement(buckets, version);
  });
}

/** A deadlock or lock wait time-out rolled the whole transaction back: it runs again, this many times at most. */
const CONFLICT_RETRIES = 2;

/**
 * Orders on MySQL shards, through one mysql2 pool per shard (ADR 0008): `pools[i]` is shard i's. The live
 * shard map (ADR 0009) picks it at call time by the bucket an order id carries, which is its customer's
 * (new orders, idempotency keys). Every routed write is one transaction that starts with the shard's fence,
 * in the round trip it sends anyway: a shard that no longer owns the bucket at the map's version refuses it
 * and it runs again where the map now says. Each is written in as few round trips as its logic allows: an
 * order without a key or under the gateway's own key is one (shared under load), a keyed claim one, its
 * completion two, a transition two. Scans over whole shards keep to the buckets each shard holds.
 */
export class MysqlOrderRepository implements OrderRepository, RetentionStore {
  /** Placed orders of one shard written at the same time share a transaction and its fence (each still stored or refused alone). */
  private readonly placements: GroupCommitter<PlacementRoute>[];

  constructor(
    private readonly pools: SqlPool[],
    private readonly map: LiveShardMap,
    private readonly subjectPrefix: string,
    private readonly fencing: FencedWriteSettings,
  ) {
    this.placements = pools.map((pool) => new GroupCommitter(pool, undefined, placementFence));
  }

  /** The map as this process holds it now (every call routes with the newest one). */
  private get router(): ShardRouter {
    return this.map.current.router;
  }

  /**
   * A read of one bucket's rows on the shard the map names. When it finds none, the map may be behind a
   * switch whose cleanup has already deleted the rows there (a process that missed the new map: reads are
   * not fenced): the map is read again and, if the bucket has moved, so is the shard that owns it now.
   */
  private async readBucket<T>(bucket: number, read: (pool: SqlPool) => Promise<T[]>): Promise<T[]> {
    const shard = this.router.shardForBucket(bucket);
    const rows = await read(this.pools[shard] as SqlPool);
    if (rows.length > 0) return rows;
    const now = (await this.map.refresh()).router.shardForBucket(bucket);
    return now === shard ? rows : read(this.pools[now] as SqlPool);
  }

  /**
   * One write transaction to the order's bucket (`work` gets the shard's pool and the route, whose fence, or
   * the group commit's one fence over its bucket and its neighbours', must be its first statement): refused
   * by a fence, it runs again on the shard the map names then, after waiting out a switch; rolled back by a
   * deadlock, it runs again too.
   */
  private async fenced<T>(orderId: string, work: (pool: SqlPool, route: FencedRoute) => Promise<T>): Promise<T> {
    const bucket = bucketOfOrderId(orderId);
    const started = Date.now();
    let refused = false;
    const onFenced = () => {
      refused = true;
      this.fencing.onFenced?.();
    };
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return await writeFenced(this.map, bucket, (route) => work(this.pools[route.shard] as SqlPool, route), {
            maxWaitMs: Math.max(0, this.fencing.maxWaitMs() - (Date.now() - started)),
            onFenced,
          });
        } catch (error) {
          if (attempt >= CONFLICT_RETRIES || !isTransientConflict(error)) throw error;
        }
      }
    } finally {
      if (refused) this.fencing.onFenceWait?.(Date.now() - started);
    }
  }

  /** A placed order's statements, group-committed on its bucket's shard behind the group's one fence (placementFence). */
  private placeGrouped(orderId: string, statements: Statement[]): Promise<void> {
    const bucket = bucketOfOrderId(orderId);
    return this.fenced(orderId, (_pool, route) =>
      (this.placements[route.shard] as GroupCommitter<PlacementRoute>).commit(statements, { bucket, version: route.version }),
    );
  }

  async claim(order: Order, idempotency: { key: string; fingerprint: string; owner?: string }): Promise<ClaimResult> {
    const createdAt = toSqlDateTime(order.createdAt);
    try {
      // The fence, then the key: on a taken key MySQL stops there. Both rows, and the COMMIT, in one round trip.
      await this.fenced(order.id, (pool, route) =>
        pool.transaction((tx) =>
          tx.commitWith([
            route.fence,
            {
              sql: `INSERT INTO idempotency_keys (customer_id, idempotency_key, fingerprint, order_id, state, owner, created_at, updated_at)
                    VALUES (?, ?, ?, ?, 'IN_FLIGHT', ?, ?, ?)`,
              values: [order.customerId, idempotency.key, idempotency.fingerprint, order.id, idempotency.owner ?? null, createdAt, createdAt],
            },
            orderStatement(order),
          ]),
        ),
      );
      return { kind: 'claimed' };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const record = await this.findIdempotency(order.customerId, idempotency.key);
      return record ? { kind: 'existing-key', record } : { kind: 'duplicate-id' };
    }
  }

  async insertPlaced(event: OrderEventRecord): Promise<boolean> {
    const { order } = event;
    try {
      // One round trip, shared under load: one fence for all the shared orders' buckets, then each order (its
      // id's unique key first, so a taken id stops there), items, history, outbox, COMMIT. A group its fence
      // refuses is written again alone, on the shard the map then names; the other groups of its batch are not held back.
      const statements = [orderStatement(order), itemsStatement(order.id, order.items), ...this.eventStatements(event)];
      await this.placeGrouped(order.id, statements);
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async insertPlacedWithKey(event: OrderEventRecord, idempotency: { key: string; fingerprint: string }): Promise<KeyedInsertResult> {
    const { order } = event;
    try {
      // As insertPlaced (one round trip, shared under load), the key's row first: the repeat of a call that
      // stored stops there, and only its own group is rolled back (the group commit writes the others again).
      const statements = [doneKeyStatement(order, idempotency), orderStatement(order), itemsStatement(order.id, order.items), ...this.eventStatements(event)];
      await this.placeGrouped(order.id, statements);
      return { kind: 'stored' };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      // Nothing was stored. The key, if it is there, says what the first call with it did; if not, the id was taken.
      const record = await this.findIdempotency(order.customerId, idempotency.key);
      return record ? { kind: 'existing-key', record } : { kind: 'duplicate-id' };
    }
  }

  async completePlacement(event: OrderEventRecord, idempotencyKey?: string): Promise<boolean> {
    const { order } = event;
    return this.fenced(order.id, (pool, route) =>
      pool.transaction(async (tx) => {
        // Round trip 1: the fence and the guard (only a PENDING claim completes; the sweeper may have failed it).
        const [, guard] = await tx.run([
          route.fence,
          {
            sql: `UPDATE orders SET status = 'RESERVED', version = 1, updated_at = ? WHERE id = ? AND status = 'PENDING'`,
            values: [toSqlDateTime(order.updatedAt), order.id],
          },
        ]);
        if (affectedRows(guard) !== 1) return false; // rolled back by the pool
        // Round trip 2: items, history, outbox (and the stored answer), and the COMMIT.
        await tx.commitWith([
          itemsStatement(order.id, order.items),
          ...this.eventStatements(event),
          ...(idempotencyKey ? [outcomeStatement(order.customerId, idempotencyKey, { kind: 'order', order }, order.id)] : []),
        ]);
        return true;
      }),
    );
  }

  async failPlacement(
    orderId: string,
    customerId: string,
    options: { idempotencyKey?: string; outcome?: StoredOutcome; owesRelease: boolean },
  ): Promise<boolean> {
    return this.fenced(orderId, (pool, route) =>
      pool.transaction(async (tx) => {
        // Round trip 1: the fence and the guard.
        const [, guard] = await tx.run([
          route.fence,
          {
            sql: `UPDATE orders SET status = 'FAILED', updated_at = NOW(3), stock_action = ?, stock_settled_at = NULL WHERE id = ? AND status = 'PENDING'`,
            values: [options.owesRelease ? 'RELEASE' : null, orderId],
          },
        ]);
        const failed = affectedRows(guard) === 1;
        // Round trip 2: the key, and the COMMIT.
        if (options.outcome && options.idempotencyKey) {
          // Only the call that failed the claim stores its answer: a claim taken over meanwhile (ADR 0006)
          // belongs to the caller that took it, whose own placement writes the key's answer.
          await tx.commitWith(failed ? [outcomeStatement(customerId, options.idempotencyKey, options.outcome, orderId)] : []);
        } else {
          // No stored answer: free the key, so the client's retry starts afresh.
          await tx.commitWith([
            { sql: `DELETE FROM idempotency_keys WHERE customer_id = ? AND order_id = ? AND state = 'IN_FLIGHT'`, values: [customerId, orderId] },
          ]);
        }
        return failed;
      }),
    );
  }

  async withdrawClaim(orderId: string, customerId: string, idempotencyKey: string): Promise<void> {
    // The fence, both deletes and the COMMIT in one round trip.
    await this.fenced(orderId, (pool, route) =>
      pool.transaction((tx) =>
        tx.commitWith([
          route.fence,
          {
            sql: `DELETE FROM idempotency_keys WHERE customer_id = ? AND idempotency_key = ? AND order_id = ? AND state = 'IN_FLIGHT'`,
            values: [customerId, idempotencyKey, orderId],
          },
          { sql: `DELETE FROM orders WHERE id = ? AND status = 'PENDING'`, values: [orderId] },
        ]),
      ),
    );
  }

  async findIdempotency(customerId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const [row] = await this.readBucket(this.router.bucketForCustomer(customerId), (pool) =>
      pool.select<IdempotencyRow>(
        `SELECT fingerprint, CAST(order_id AS CHAR) AS order_id, state, owner, response FROM idempotency_keys WHERE customer_id = ? AND idempotency_key = ?`,
        [customerId, key],
      ),
    );
    if (!row) return undefined;
    return {
      fingerprint: row.fingerprint,
      orderId: row.order_id,
      state: row.state,
      outcome: row.response ? decodeOutcome(row.response) : undefined,
      ...(row.owner ? { owner: row.owner } : {}),
    };
  }

  async get(orderId: string): Promise<Order | undefined> {
    return toOrder(await this.readBucket(bucketOfOrderId(orderId), (pool) => pool.select<OrderRow>(ORDER_SELECT, [orderId])));
  }

  async history(orderId: string): Promise<OrderHistoryEntry[]> {
    const rows = await this.readBucket(bucketOfOrderId(orderId), (pool) =>
      pool.select<HistoryRow>(`SELECT version, status, occurred_at, actor_kind, actor_id, reason FROM order_history WHERE order_id = ? ORDER BY version`, [
        orderId,
      ]),
    );
    return rows.map((r) => ({
      version: Number(r.version),
      status: r.status,
      occurredAt: r.occurred_at,
      changedBy: r.actor_id === null ? { kind: r.actor_kind } : { kind: r.actor_kind, id: r.actor_id },
      reason: r.reason,
    }));
  }

  async transition(orderId: string, spec: TransitionSpec, event: (order: Order) => OrderEventRecord, now: Date): Promise<Order | undefined> {
    return this.fenced(orderId, (pool, route) =>
      pool.transaction(async (tx) => {
        // Round trip 1: the fence, the guarded UPDATE and the order as it now is. The guard is the WHERE:
        // only an order in an allowed state moves. An owed Commit/Release is kept when this change owes
        // nothing new (ship after an unsettled pay).
        const [, guard, read] = await tx.run([
          route.fence,
          {
            sql: `UPDATE orders SET status = ?, version = version + 1, updated_at = ?,
                    stock_settled_at = IF(? IS NULL, stock_settled_at, NULL), stock_action = COALESCE(?, stock_action)
                  WHERE id = ? AND status IN (?)`,
            values: [spec.to, toSqlDateTime(now), spec.stock, spec.stock, orderId, [...spec.from]],
          },
          { sql: ORDER_SELECT, values: [orderId] },
        ]);
        if (affectedRows(guard) !== 1) return undefined; // rolled back by the pool
        const order = toOrder(rowsOf<OrderRow>(read)) as Order;
        // Round trip 2: history, outbox, COMMIT.
        await tx.commitWith(this.eventStatements(event(order)));
        return order;
      }),
    );
  }

  async markStockSettled(orderId: string): Promise<void> {
    // A transaction of its own for the fence, in one round trip still.
    await this.fenced(orderId, (pool, route) =>
      pool.transaction((tx) =>
        tx.commitWith([route.fence, { sql: `UPDATE orders SET stock_settled_at = NOW(3) WHERE id = ? AND stock_action IS NOT NULL`, values: [orderId] }]),
      ),
    );
  }

  async findExpired(now: Date, limit: number): Promise<string[]> {
    return this.everyShard<{ id: string }>(
      `SELECT CAST(id AS CHAR) AS id FROM orders WHERE status = 'RESERVED' AND expires_at <= ? AND ${HELD_ORDERS} ORDER BY expires_at LIMIT ?`,
      [toSqlDateTime(now), limit],
    ).then((rows) => rows.map((r) => r.id));
  }

  async findStalePending(createdBefore: Date, limit: number): Promise<{ orderId: string; customerId: string }[]> {
    const rows = await this.everyShard<{ id: string; customer_id: string }>(
      `SELECT CAST(id AS CHAR) AS id, customer_id FROM orders WHERE status = 'PENDING' AND created_at < ? AND ${HELD_ORDERS} LIMIT ?`,
      [toSqlDateTime(createdBefore), limit],
    );
    return rows.map((r) => ({ orderId: r.id, customerId: r.customer_id }));
  }

  async findUnsettled(changedBefore: Date, limit: number): Promise<{ orderId: string; action: StockAction; status: OrderStatus }[]> {
    const rows = await this.everyShard<{ id: string; stock_action: StockAction; status: OrderStatus }>(
      `SELECT CAST(id AS CHAR) AS id, stock_action, status FROM orders
       WHERE stock_settled_at IS NULL AND stock_action IS NOT NULL AND updated_at < ? AND ${HELD_ORDERS} LIMIT ?`,
      [toSqlDateTime(changedBefore), limit],
    );
    return rows.map((r) => ({ orderId: r.id, action: r.stock_action, status: r.status }));
  }

  /** Orders that owe inventory a Commit or Release not yet settled, over every shard (a gauge). */
  async countUnsettled(): Promise<number> {
    const rows = await this.everyShard<{ n: string }>(
      `SELECT COUNT(*) AS n FROM orders WHERE stock_settled_at IS NULL AND stock_action IS NOT NULL AND ${HELD_ORDERS}`,
    );
    return rows.reduce((sum, row) => sum + Number(row.n), 0);
  }

  async purgeIdempotencyKeys(before: Date, limit: number): Promise<PurgeBatch> {
    // Index (state, created_at): the DELETE reads one index range and stops at the limit.
    return this.purgeEveryShard(
      `DELETE FROM idempotency_keys WHERE state = 'DONE' AND created_at < ? AND ${heldBucketCondition('order_id')} ORDER BY created_at LIMIT ?`,
      before,
      limit,
    );
  }

  async purgeSentOutbox(before: Date, limit: number): Promise<PurgeBatch> {
    // Index outbox_unsent (sent_at, id): `sent_at < ?` skips the unsent rows (NULL) and reads the oldest first.
    return this.purgeEveryShard(`DELETE FROM outbox WHERE sent_at < ? AND ${heldBucketCondition('order_id')} ORDER BY sent_at LIMIT ?`, before, limit);
  }

  /**
   * One bounded, autocommitted DELETE per shard, the shards in parallel. Its held-bucket check share-locks
   * the `shard_buckets` rows it reads until it ends (a DELETE's subquery reads with locks, at any isolation
   * level): a move's fence waits for one batch at most, as for any writer.
   */
  private async purgeEveryShard(sql: string, before: Date, limit: number): Promise<PurgeBatch> {
    const counts = await forEachShard(this.router, async (shard) =>
      affectedRows((await (this.pools[shard] as SqlPool).run([{ sql, values: [toSqlDateTime(before), limit] }]))[0]),
    );
    return { deleted: counts.reduce((a, b) => a + b, 0), more: counts.some((n) => n >= limit) };
  }

  /** One SELECT on every shard, the shards in parallel; the rows of all of them. */
  private async everyShard<T>(sql: string, values?: unknown[]): Promise<T[]> {
    const perShard = await forEachShard(this.router, (shard) => (this.pools[shard] as SqlPool).select<T>(sql, values));
    return perShard.flat();
  }

  /** The history row and the outbox row of one event. */
  private eventStatements(event: OrderEventRecord): Statement[] {
    const { subject, payload } = encodeOrderEvent(event, this.subjectPrefix);
    const at = toSqlDateTime(event.occurredAt);
    // The request's trace context travels with the event: the relay's publish continues it.
    const traceparent = activeTraceparent() ?? null;
    return [
      {
        sql: `INSERT INTO order_history (order_id, version, status, event_id, occurred_at, actor_kind, actor_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        values: [event.order.id, event.order.version, event.order.status, event.eventId, at, event.changedBy.kind, event.changedBy.id ?? null, event.reason],
      },
      {
        sql: `INSERT INTO outbox (event_id, order_id, subject, payload, created_at, traceparent) VALUES (?, ?, ?, ?, ?, ?)`,
        values: [event.eventId, event.order.id, subject, payload, at, traceparent],
      },
    ];
  }
}

/** The order row as it is (a claim's PENDING version 0, or a placed order's RESERVED version 1). */
function orderStatement(order: Order): Statement {
  return {
    sql: `INSERT INTO orders (id, customer_id, status, total_minor, address, payment_method, version, created_at, updated_at, expires_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    values: [
      order.id,
      order.customerId,
      order.status,
      order.totalMinor,
      order.address,
      order.paymentMethod,
      order.version,
      toSqlDateTime(order.createdAt),
      toSqlDateTime(order.updatedAt),
      toSqlDateTime(order.expiresAt),
    ],
  };
}

function itemsStatement(orderId: string, items: OrderItem[]): Statement {
  return {
    sql: `INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price_minor) VALUES ${items.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
    values: items.flatMap((item, i) => [orderId, i + 1, item.productId, item.quantity, item.unitPriceMinor]),
  };
}

/** A key stored with its order: DONE at once, the order as its answer (the row a claim's completion leaves), no owner. */
function doneKeyStatement(order: Order, idempotency: { key: string; fingerprint: string }): Statement {
  return {
    sql: `INSERT INTO idempotency_keys (customer_id, idempotency_key, fingerprint, order_id, state, owner, response, created_at, updated_at)
          VALUES (?, ?, ?, ?, 'DONE', NULL, ?, ?, ?)`,
    values: [
      order.customerId,
      idempotency.key,
      idempotency.fingerprint,
      order.id,
      encodeOutcome({ kind: 'order', order }),
      toSqlDateTime(order.createdAt),
      toSqlDateTime(order.updatedAt),
    ],
  };
}

/** The key's answer, stored only while the key still names this placement's order (and is in flight). */
function outcomeStatement(customerId: string, key: string, outcome: StoredOutcome, orderId: string): Statement {
  return {
    sql: `UPDATE idempotency_keys SET state = 'DONE', response = ?, updated_at = NOW(3)
          WHERE customer_id = ? AND idempotency_key = ? AND order_id = ? AND state = 'IN_FLIGHT'`,
    values: [encodeOutcome(outcome), customerId, key, orderId],
  };
}
