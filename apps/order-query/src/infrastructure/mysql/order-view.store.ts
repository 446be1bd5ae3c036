import { affectedRows, isDuplicateKey, isTransientConflict, rowsOf, SqlPool, Statement, StatementResult } from '@orderflow/database';
import { BucketMovingError, fenceManyStatement, heldBucketCondition, isFenceRejection, LiveShardMap, writeFenced } from '@orderflow/shard-control';
import { decodeOrderId, ShardRouter } from '@orderflow/sharding';
import { ReadShardMovingError } from '../../domain/errors';
import type { AllOrdersFilter, OrderEvent, OrderItem, OrderView } from '../../domain/model';
import type { OrderShardReader, OrderViewStore } from '../../domain/ports';
import type { ProjectedState, ProjectionDecision } from '../../domain/projection';
import { lockedStates, lockViews, projectionWrites } from './order-view.statements';

/**
 * A view row as the SqlPool returns it: the view itself under its own names (VIEW_COLUMNS aliases the
 * columns), but for what the driver hands over as it is stored: BIGINTs as strings, the items as JSON.
 */
type ViewRow = Omit<OrderView, 'totalMinor' | 'version' | 'items'> & { totalMinor: number | string; version: number | string; items: string };

// Ids are 64-bit: read them as strings, never through a JS number, and compare them as integers
// (CAST), never as strings against a BIGINT column (MySQL would compare doubles).
const VIEW_COLUMNS = `CAST(v.order_id AS CHAR) AS id, v.customer_id AS customerId, v.status, v.total_minor AS totalMinor, v.address,
  v.payment_method AS paymentMethod, v.version, v.items, v.created_at AS createdAt, v.updated_at AS updatedAt, v.expires_at AS expiresAt`;

function toView(row: ViewRow): OrderView {
  const items = JSON.parse(row.items) as { product_id: string; quantity: number; unit_price_minor: number }[];
  return {
    ...row,
    items: items.map((i): OrderItem => ({ productId: i.product_id, quantity: Number(i.quantity), unitPriceMinor: Number(i.unit_price_minor) })),
    totalMinor: Number(row.totalMinor),
    version: Number(row.version),
  };
}

export interface FencingOptions {
  /** How long a projection waits for a bucket move's switch before giving up (ReadShardMovingError). */
  maxWaitMs: number;
  /** Called on each write a fence refused (a metric). */
  onFenced?: () => void;
}

const bucketOf = (orderId: string) => decodeOrderId(orderId).bucket;

/** 64-bit ids as decimal strings, compared as integers. */
const compareIds = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

/**
 * The guess `projectAtOnce` decides on: each order's view stands at the version before its first event in
 * the batch, for that event's customer (no view before a version 1). Events arrive in order almost always.
 */
function guessedStates(events: readonly OrderEvent[]): Map<string, ProjectedState> {
  const states = new Map<string, ProjectedState>();
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.orderId)) continue;
    seen.add(event.orderId);
    if (event.version > 1) states.set(event.orderId, { version: event.version - 1, customerId: event.customerId });
  }
  return states;
}

/**
 * Order views on the read shards, one SqlPool per read shard: `pools[i]` is read shard i. The live map
 * (ADR 0009) picks it by the bucket an order id carries, or by the customer (the same bucket: events whose
 * id does not carry the customer's bucket are refused before they get here), so an order's view and its
 * listing row share a shard. A query is one round trip (GetOrder and a customer's listing also ask whether
 * the shard still holds the bucket: see `readRouted`); a projection usually one, two more when what is
 * stored was not what it guessed (see `projectOn`), each transaction starting with ONE fence statement
 * for every bucket it writes.
 */
export class MysqlOrderViewStore implements OrderViewStore, OrderShardReader {
  constructor(
    private readonly pools: SqlPool[],
    private readonly map: LiveShardMap,
    private readonly fencing: FencingOptions,
  ) {}

  private pool(shard: number): SqlPool {
    return this.pools[shard] as SqlPool;
  }

  /** The map this process holds now: every read and write routes by it. */
  private get router(): ShardRouter {
    return this.map.current.router;
  }

  shardOf(orderId: string): number {
    return this.router.shardForOrderId(orderId);
  }

  /**
   * Fenced (ADR 0009): the transaction's first round trip starts with ONE fence statement for every
   * bucket of the events (`orderflow_fence` for one bucket, `orderflow_fence_many` over the list for
   * several), so a shard that no longer owns one (a stale map) or is switching it refuses the whole
   * transaction before anything is written. Events of one bucket go through writeFenced: re-routed
   * by the map read again, or waiting out a switch for at most `maxWaitMs` (then ReadShardMovingError).
   * Events of several buckets are re-routed too, but never wait: a refusal under the same map means one
   * of their buckets is switching, and the share fails, so the caller projects its events one by one and
   * only the moving bucket's events wait.
   */
  async project(
    events: OrderEvent[],
    decide: (stored: ReadonlyMap<string, ProjectedState>) => ProjectionDecision[],
    projectedAt: Date,
    attempts: number,
  ): Promise<ProjectionDecision[]> {
    if (events.length === 0) return [];
    const buckets = [...new Set(events.map((event) => bucketOf(event.orderId)))];
    if (buckets.length === 1) {
      const bucket = buckets[0]!;
      try {
        return await writeFenced(this.map, bucket, (route) => this.projectOn(route.shard, [route.fence], events, decide, projectedAt, attempts), this.fencing);
      } catch (error) {
        if (error instanceof BucketMovingError) throw new ReadShardMovingError(error.bucket, error.waitedMs);
        throw error;
      }
    }
    for (;;) {
      const { version, router } = this.map.current;
      const shard = router.shardForBucket(buckets[0]!);
      // The map changed since the events were grouped by shard: the caller projects them one by one.
      if (buckets.some((bucket) => router.shardForBucket(bucket) !== shard)) throw new Error('a projection must stay on one read shard');
      try {
        return await this.projectOn(shard, [fenceManyStatement(buckets, version)], events, decide, projectedAt, attempts);
      } catch (error) {
        if (!isFenceRejection(error)) throw error;
        this.fencing.onFenced?.();
        if ((await this.map.refresh()).version === version) throw error;
      }
    }
  }

  /**
   * Usually ONE round trip (`projectAtOnce`): the fence, the writes and the COMMIT together, decided on the
   * guess that each order's view stands just before its first event here. When the guess fails for some
   * order (a redelivery, a version that came early, a lost insert race), what could not be settled is
   * decided in a locked transaction of two round trips (`projectLocked`) against what is stored then. A
   * deadlock, or a lost insert race in the locked transaction, runs it again, up to `attempts` runs in all.
   */
  private async projectOn(
    shard: number,
    fences: Statement[],
    events: OrderEvent[],
    decide: (stored: ReadonlyMap<string, ProjectedState>) => ProjectionDecision[],
    projectedAt: Date,
    attempts: number,
  ): Promise<ProjectionDecision[]> {
    let settled: (ProjectionDecision | undefined)[] | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        if (attempt === 1) {
          settled = await this.projectAtOnce(shard, fences, events, decide, projectedAt);
          if (settled?.every((decision) => decision !== undefined)) return settled as ProjectionDecision[];
        }
        const locked = await this.projectLocked(shard, fences, events, decide, projectedAt);
        // What the first round trip applied, it decided; the locked run found those events applied (duplicates).
        return locked.map((decision, i) => settled?.[i] ?? decision);
      } catch (error) {
        if (attempt < attempts && (isDuplicateKey(error) || isTransientConflict(error))) continue;
        throw error;
      }
    }
  }

  /**
   * One round trip: BEGIN, the fence, the writes of what `decide` says against the guess (each order's
   * view at the version before its first event here, for that customer; none before a version 1), and
   * COMMIT. The writes are guarded (projectionWrites): an UPDATE whose guess was wrong applies nothing, so
   * whatever commits is right. Resolves to the decision of every event of an order whose first write
   * applied (the guess held, so every decision of that order is the one the stored state gives) and of
   * every event whose own write applied; undefined for the rest, or for all when an INSERT met a view
   * already there (nothing committed then). A fence's refusal or any other failure rejects, nothing written.
   */
  private async projectAtOnce(
    shard: number,
    fences: Statement[],
    events: OrderEvent[],
    decide: (stored: ReadonlyMap<string, ProjectedState>) => ProjectionDecision[],
    projectedAt: Date,
  ): Promise<(ProjectionDecision | undefined)[] | undefined> {
    const decisions = decide(guessedStates(events));
    // Each order's writes in its events' order; the orders in id order (as the locked run locks them), so two
    // transactions over the same orders take their row locks in the same order.
    const order = events.map((_, i) => i).sort((a, b) => compareIds(events[a]!.orderId, events[b]!.orderId) || a - b);
    const writes: Statement[] = [];
    const viewWrites: { event: number; write: number }[] = [];
    for (const i of order) {
      const decision = decisions[i];
      if (decision !== 'insert' && decision !== 'apply') continue;
      viewWrites.push({ event: i, write: writes.length });
      writes.push(...projectionWrites(events[i]!, decision, projectedAt));
    }
    if (writes.length === 0) return undefined;
    let committed: StatementResult[];
    try {
      committed = await this.pool(shard).transaction((tx) => tx.commitWith([...fences, ...writes]));
    } catch (error) {
      if (isDuplicateKey(error)) return undefined;
      throw error;
    }
    const applied = new Set(viewWrites.filter(({ write }) => affectedRows(committed[fences.length + write]) === 1).map(({ event }) => event));
    const firstWrite = new Map<string, number>();
    for (const { event } of viewWrites) if (!firstWrite.has(events[event]!.orderId)) firstWrite.set(events[event]!.orderId, event);
    return events.map((event, i) => (applied.has(firstWrite.get(event.orderId) ?? -1) || applied.has(i) ? decisions[i] : undefined));
  }

  /**
   * Two round trips: the first opens the transaction, runs the fence and locks every order of the events
   * (so `decide` sees what is stored), the second writes what applies and commits.
   */
  private async projectLocked(
    shard: number,
    fences: Statement[],
    events: OrderEvent[],
    decide: (stored: ReadonlyMap<string, ProjectedState>) => ProjectionDecision[],
    projectedAt: Date,
  ): Promise<ProjectionDecision[]> {
    return this.pool(shard).transaction(async (tx) => {
      const results = await tx.run([...fences, lockViews([...new Set(events.map((e) => e.orderId))])]);
      const decisions = decide(lockedStates(results[fences.length]));
      const writes: Statement[] = [];
      const viewUpdates: number[] = [];
      events.forEach((event, i) => {
        const decision = decisions[i];
        if (decision !== 'insert' && decision !== 'apply') return;
        if (decision === 'apply') viewUpdates.push(writes.length);
        writes.push(...projectionWrites(event, decision, projectedAt));
      });
      if (writes.length === 0) return decisions; // nothing written; the pool ends the transaction
      const committed = await tx.commitWith(writes);
      // Committed with the writes (one round trip), so checked after: were a guarded UPDATE ever to
      // miss under the lock, the events are projected again, which reads the rows again.
      if (viewUpdates.some((w) => affectedRows(committed[w]) !== 1)) throw new Error('an order view changed under its row lock');
      return decisions;
    });
  }

  async get(orderId: string): Promise<OrderView | undefined> {
    const sql = `SELECT ${VIEW_COLUMNS} FROM order_views v WHERE v.order_id = CAST(? AS UNSIGNED)`;
    const [row] = await this.readRouted<ViewRow>(bucketOf(orderId), { sql, values: [orderId] });
    return row ? toView(row) : undefined;
  }

  async listByCustomer(customerId: string, beforeOrderId: string | undefined, limit: number): Promise<OrderView[]> {
    const rows = await this.readRouted<ViewRow>(this.router.bucketForCustomer(customerId), {
      sql: `SELECT ${VIEW_COLUMNS} FROM customer_orders c JOIN order_views v ON v.order_id = c.order_id
       WHERE c.customer_id = ? ${beforeOrderId === undefined ? '' : 'AND c.order_id < CAST(? AS UNSIGNED)'}
       ORDER BY c.order_id DESC LIMIT ?`,
      values: [customerId, ...(beforeOrderId === undefined ? [] : [beforeOrderId]), limit],
    });
    return rows.map(toView);
  }

  /**
   * One read on the shard the map names for `bucket`, asking in the same round trip whether that shard still
   * holds the bucket. A process a poll behind a switch then reads the map again and the new shard, rather
   * than answer from the source's copy (frozen at the switch, deleted by the move's clean-up).
   */
  private async readRouted<T>(bucket: number, statement: Statement): Promise<T[]> {
    for (let attempt = 1; ; attempt++) {
      const { version, router } = this.map.current;
      const [rows, held] = await this.pool(router.shardForBucket(bucket)).run([
        statement,
        { sql: "SELECT COUNT(*) AS held FROM shard_buckets WHERE bucket = ? AND state IN ('OWNED', 'FENCED')", values: [bucket] },
      ]);
      if (Number(rowsOf<{ held: string }>(held)[0]?.held) > 0 || attempt > 1) return rowsOf<T>(rows);
      // Not held here: a switch this process has not seen yet, or one whose map is not written yet (then these rows are current).
      if ((await this.map.refresh()).version === version) return rowsOf<T>(rows);
    }
  }

  readShards(): readonly number[] {
    return this.router.shards();
  }

  shardForCustomer(customerId: string): number {
    return this.router.shardForCustomer(customerId);
  }

  /**
   * A backward range scan of one index, cut at `limit`: the primary key of order_views, its
   * (status, order_id) index, or customer_orders' (customer_id[, status], order_id), so the rows read
   * stay close to the rows returned. Across customers, only the buckets the shard holds count: a move's
   * copies on its target and the rows a switch left on its source are another shard's orders.
   */
  async listShard(shard: number, filter: AllOrdersFilter, beforeOrderId: string | undefined, limit: number): Promise<OrderView[]> {
    const byCustomer = filter.customerId !== undefined;
    const t = byCustomer ? 'c' : 'v';
    const conditions: [string, unknown][] = [
      ...(filter.customerId === undefined ? [] : [['c.customer_id = ?', filter.customerId] as [string, unknown]]),
      ...(filter.status === undefined ? [] : [[`${t}.status = ?`, filter.status] as [string, unknown]]),
      ...(beforeOrderId === undefined ? [] : [[`${t}.order_id < CAST(? AS UNSIGNED)`, beforeOrderId] as [string, unknown]]),
    ];
    // One customer's orders are on the one shard the map names for them: nothing to keep out.
    const held = byCustomer ? [] : [heldBucketCondition('v.order_id')];
    const from = byCustomer ? 'customer_orders c JOIN order_views v ON v.order_id = c.order_id' : 'order_views v';
    const all = [...conditions.map(([sql]) => sql), ...held];
    const where = all.length > 0 ? `WHERE ${all.join(' AND ')}` : '';
    const rows = await this.pool(shard).select<ViewRow>(`SELECT ${VIEW_COLUMNS} FROM ${from} ${where} ORDER BY ${t}.order_id DESC LIMIT ?`, [
      ...conditions.map(([, value]) => value),
      limit,
    ]);
    return rows.map(toView);
  }
}
