import {
  affectedRows,
  isCheckViolation,
  isDuplicateKey,
  rowsOf,
  SqlPool,
  SqlTransaction,
  Statement,
  StatementResult,
  toSqlDateTime,
} from '@orderflow/database';
import { ProductNotFoundError, ReservationNotFoundError, ReservationStateError, StockAdjustmentRefusedError, VersionConflict } from '../../domain/errors';
import type { AdjustStockCommand, Product, Reservation, ReservationItem, ReservationStatus, ReserveCommand } from '../../domain/model';
import type { StockAdjustment, UpsertProductCommand } from '../../domain/model';
import type { BatchOutcome, InventoryStore, ReservationRetentionStore } from '../../domain/ports';
import { assertReservable } from '../../domain/stock';
import { BatchAllocation, BatchSnapshot, reservationOf, StockTake } from '../../domain/stock-allocation';

/** A row as the pool returns it: BIGINT columns come as strings, DATETIME as Date. */
interface ProductRow {
  id: string;
  name: string;
  price_minor: string;
  available: string;
  reserved: string;
  sold: string;
  received: string;
  version: string;
}

interface ReservationRow {
  order_id: string;
  status: ReservationStatus;
  placement_id: string | null;
  expires_at: Date | null;
  release_reason: string | null;
  product_id: string | null;
  quantity: string | null;
}

export interface StoreHooks {
  /** Runs inside a stock-changing transaction after the products were read and before the UPDATEs. For fault-injection tests. */
  beforeStockWrite?: (productIds: string[]) => Promise<void>;
}

const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  name: row.name,
  priceMinor: Number(row.price_minor),
  available: Number(row.available),
  reserved: Number(row.reserved),
  sold: Number(row.sold),
  received: Number(row.received),
  version: Number(row.version),
});

function toReservation(rows: ReservationRow[]): Reservation | undefined {
  const [first] = rows;
  if (!first) return undefined;
  return {
    orderId: first.order_id,
    status: first.status,
    items: rows.filter((r) => r.product_id !== null).map((r) => ({ productId: r.product_id as string, quantity: Number(r.quantity) })),
    expiresAt: first.expires_at ?? undefined,
    releaseReason: first.release_reason ?? undefined,
    ...(first.placement_id ? { placementId: first.placement_id } : {}),
  };
}

const SELECT_PRODUCTS = 'SELECT id, name, price_minor, available, reserved, sold, received, version FROM products WHERE id IN (?)';
const selectReservation = (forUpdate: boolean) =>
  `SELECT r.order_id, r.status, r.placement_id, r.expires_at, r.release_reason, i.product_id, i.quantity
   FROM reservations r LEFT JOIN reservation_items i ON i.order_id = r.order_id
   WHERE r.order_id = ? ORDER BY i.product_id${forUpdate ? ' FOR UPDATE' : ''}`;

/** How a stock UPDATE moves the counters: two `?` in `set` and one in `bound`, each the quantity. */
interface StockMove {
  set: string;
  bound: string;
}
const TAKE: StockMove = { set: 'available = available - ?, reserved = reserved + ?', bound: 'available >= ?' };
const SELL: StockMove = { set: 'reserved = reserved - ?, sold = sold + ?', bound: 'reserved >= ?' };
const GIVE_BACK: StockMove = { set: 'reserved = reserved - ?, available = available + ?', bound: 'reserved >= ?' };
const ADJUST: StockMove = { set: 'available = available + ?, received = received + ?', bound: 'available + ? >= 0' };

/** One version-checked UPDATE of a product's counters. */
const stockUpdate = ({ set, bound }: StockMove, product: Pick<Product, 'id' | 'version'>, quantity: number): Statement => ({
  sql: `UPDATE products SET ${set}, version = version + 1, updated_at = NOW(3) WHERE id = ? AND version = ? AND ${bound}`,
  values: [quantity, quantity, product.id, product.version, quantity],
});

/** Each stock UPDATE must have changed exactly its row: else someone changed the product since it was read. */
function checkStockUpdates(results: StatementResult[], productIds: string[]): void {
  productIds.forEach((productId, i) => {
    if (affectedRows(results[i]) !== 1) throw new VersionConflict(productId);
  });
}

/**
 * MySQL persistence, every statement through one SqlPool (`?` placeholders, READ COMMITTED
 * transactions whose statements travel batched in few round trips). Every stock change is one
 * conditional UPDATE ... WHERE id = ? AND version = ? (and a counter bound), checked by its
 * affected-row count, in the same transaction as the reservation rows; the batched Reserve's takes
 * check the version inside the UPDATE instead (takeStatement), so they can travel with the COMMIT.
 */
export class MysqlInventoryStore implements InventoryStore, ReservationRetentionStore {
  constructor(
    private readonly pool: SqlPool,
    private readonly hooks: StoreHooks = {},
  ) {}

  async upsertProduct(command: UpsertProductCommand): Promise<{ product: Product; created: boolean }> {
    return this.pool.transaction(async (tx) => {
      // received moves by the change in available, so available + reserved + sold = received holds.
      const [upserted, rows] = await tx.commitWith([
        {
          sql: `INSERT INTO products (id, name, price_minor, available, reserved, sold, received, version, created_at, updated_at)
                VALUES (?, ?, ?, ?, 0, 0, ?, 1, NOW(3), NOW(3))
                ON DUPLICATE KEY UPDATE name = VALUES(name), price_minor = VALUES(price_minor),
                  received = received + (VALUES(available) - available), available = VALUES(available),
                  version = version + 1, updated_at = NOW(3)`,
          values: [command.id, command.name, command.priceMinor, command.available, command.available],
        },
        { sql: SELECT_PRODUCTS, values: [[command.id]] },
      ]);
      // MySQL reports 1 affected row for an insert and 2 for an update.
      return { product: toProduct(rowsOf<ProductRow>(rows)[0] as ProductRow), created: affectedRows(upserted) === 1 };
    });
  }

  async getProducts(ids: string[]): Promise<Product[]> {
    if (ids.length === 0) return [];
    return (await this.pool.select<ProductRow>(SELECT_PRODUCTS, [ids])).map(toProduct);
  }

  async findReservation(orderId: string): Promise<Reservation | undefined> {
    return toReservation(await this.pool.select<ReservationRow>(selectReservation(false), [orderId]));
  }

  async reserveAttempt(command: ReserveCommand): Promise<{ reservation: Reservation; created: boolean }> {
    return this.pool.transaction(async (tx) => {
      const ids = command.items.map((i) => i.productId);
      const products = await readProducts(tx, ids);
      assertReservable(products, command);
      try {
        await tx.run([insertReservations([command])]);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // Another call for this order got there first (and committed: the INSERT waited for it): report what it stored.
        return { reservation: toReservation(await tx.select<ReservationRow>(selectReservation(false), [command.orderId])) as Reservation, created: false };
      }
      await this.hooks.beforeStockWrite?.(ids);
      const takes = command.items.map((item) => stockUpdate(TAKE, products.get(item.productId) as Product, item.quantity));
      const results = await tx.run([...takes, insertItems([command])]);
      checkStockUpdates(results, ids);
      return { reservation: reservationOf(command), created: true };
    });
  }

  /**
   * The hot path, two round trips per batch: read; then the takes, the inserts and COMMIT. Each take
   * aborts the transaction by itself when the product changed since the read (see takeStatement), so
   * nothing needs checking between the writes and the COMMIT.
   */
  async reserveBatchAttempt(commands: ReserveCommand[], allocate: (snapshot: BatchSnapshot) => BatchAllocation): Promise<BatchOutcome[]> {
    const productIds = [...new Set(commands.map((c) => (c.items[0] as ReservationItem).productId))];
    const decisions = await this.pool.transaction(async (tx) => {
      // Round trip 1 (opens the transaction): the products, and which orders are already stored.
      const [productRows, storedRows] = await tx.run([
        { sql: SELECT_PRODUCTS, values: [productIds] },
        { sql: 'SELECT order_id FROM reservations WHERE order_id IN (?)', values: [commands.map((c) => c.orderId)] },
      ]);
      const { decisions, takes, granted } = allocate({
        products: new Map(rowsOf<ProductRow>(productRows).map((row) => [row.id, toProduct(row)])),
        storedOrderIds: new Set(rowsOf<{ order_id: string }>(storedRows).map((r) => r.order_id)),
      });
      if (takes.length > 0) {
        await this.hooks.beforeStockWrite?.(takes.map((t) => t.productId));
        // Round trip 2: one version-checked UPDATE per take, the granted reservations' rows (a take means a grant), COMMIT.
        await tx.commitWith([...takes.map(takeStatement), insertReservations(granted), insertItems(granted)]).catch((error: unknown) => {
          // A lost race (the lock expired, another writer changed the product: the CHECK refused the take), or an order id
          // stored meanwhile by a call outside this batch's locks: nothing after it ran and the pool rolls back; the caller
          // runs the batch again on fresh data, where a stored order shows as stored.
          throw isCheckViolation(error) || isDuplicateKey(error) ? new VersionConflict((takes[0] as StockTake).productId) : error;
        });
      }
      return decisions;
    });
    // Stored orders are rare (retries): read them one by one.
    const outcomes: BatchOutcome[] = [];
    for (const [i, decision] of decisions.entries()) {
      if (decision.kind !== 'stored') outcomes.push(decision);
      else outcomes.push({ kind: 'existing', reservation: (await this.findReservation((commands[i] as ReserveCommand).orderId)) as Reservation });
    }
    return outcomes;
  }

  async commitAttempt(orderId: string): Promise<Reservation> {
    return this.pool.transaction(async (tx) => {
      const reservation = await lockReservation(tx, orderId);
      if (!reservation) throw new ReservationNotFoundError(orderId);
      if (reservation.status === 'COMMITTED') return reservation;
      if (reservation.status === 'RELEASED') throw new ReservationStateError(orderId, reservation.status, 'commit');
      await this.moveStock(tx, reservation.items, SELL, setStatus(orderId, 'COMMITTED', null));
      return { ...reservation, status: 'COMMITTED' };
    });
  }

  async prepareCommitAttempt(orderId: string): Promise<Reservation> {
    return this.pool.transaction(async (tx) => {
      const reservation = await lockReservation(tx, orderId);
      if (!reservation) throw new ReservationNotFoundError(orderId);
      if (reservation.status === 'COMMITTED') return reservation;
      if (reservation.status === 'RELEASED') throw new ReservationStateError(orderId, reservation.status, 'prepare the commit of');
      await tx.commitWith([{ sql: 'UPDATE reservations SET expires_at = NULL, updated_at = NOW(3) WHERE order_id = ?', values: [orderId] }]);
      return { ...reservation, expiresAt: undefined };
    });
  }

  async releaseAttempt(orderId: string, reason: string, options: { expiredBefore?: Date } = {}): Promise<Reservation> {
    return this.pool.transaction(async (tx) => {
      const reservation = await lockReservation(tx, orderId);
      if (options.expiredBefore && reservation?.status === 'RESERVED' && !(reservation.expiresAt && reservation.expiresAt < options.expiredBefore)) {
        throw new ReservationStateError(orderId, 'prepared for commit', 'expire');
      }
      if (!reservation) {
        // Nothing held yet: record the release, so a late Reserve for this order cannot hold stock.
        try {
          await tx.commitWith([
            {
              sql: "INSERT INTO reservations (order_id, status, release_reason, created_at, updated_at) VALUES (?, 'RELEASED', ?, NOW(3), NOW(3))",
              values: [orderId, reason],
            },
          ]);
        } catch (error) {
          if (isDuplicateKey(error)) throw new VersionConflict(orderId); // a Reserve won the race: run again
          throw error;
        }
        return { orderId, status: 'RELEASED', items: [], releaseReason: reason };
      }
      if (reservation.status === 'RELEASED') return reservation;
      if (reservation.status === 'COMMITTED') throw new ReservationStateError(orderId, reservation.status, 'release');
      await this.moveStock(tx, reservation.items, GIVE_BACK, setStatus(orderId, 'RELEASED', reason));
      return { ...reservation, status: 'RELEASED', releaseReason: reason };
    });
  }

  async adjustStockAttempt(command: AdjustStockCommand): Promise<StockAdjustment> {
    return this.pool.transaction(async (tx) => {
      const product = (await readProducts(tx, [command.productId])).get(command.productId);
      if (!product) throw new ProductNotFoundError([command.productId]);
      if (product.available + command.delta < 0) throw new StockAdjustmentRefusedError(product.id, command.delta, product.available);
      await this.hooks.beforeStockWrite?.([product.id]);
      // received moves with available, so available + reserved + sold = received holds.
      const after: Product = {
        ...product,
        available: product.available + command.delta,
        received: product.received + command.delta,
        version: product.version + 1,
      };
      const results = await tx.run([
        stockUpdate(ADJUST, product, command.delta),
        {
          sql: `INSERT INTO stock_adjustments (product_id, delta, reason, actor_id, available_after, version_after, created_at)
                VALUES (?, ?, ?, ?, ?, ?, NOW(3))`,
          values: [product.id, command.delta, command.reason, command.actorId, after.available, after.version],
        },
      ]);
      checkStockUpdates(results, [product.id]);
      const inserted = results[1];
      return { id: Number(inserted && !Array.isArray(inserted) ? inserted.insertId : 0), product: after };
    });
  }

  /**
   * One batch per settled status: lock the oldest rows past the cutoff (index (status, updated_at)),
   * then delete their items and themselves, in one transaction of two round trips. Settled states are
   * final, so a concurrent Commit or Release of one of them either answers before it goes or finds it
   * gone (docs/inventory.md, "Retention").
   */
  async purgeSettledReservations(before: Date, limit: number): Promise<{ deleted: number; more: boolean }> {
    let deleted = 0;
    let more = false;
    for (const status of ['COMMITTED', 'RELEASED'] as const) {
      const { removed, selected: count } = await this.pool.transaction(async (tx) => {
        const selected = await tx.select<{ order_id: string }>(
          'SELECT order_id FROM reservations WHERE status = ? AND updated_at < ? ORDER BY updated_at LIMIT ? FOR UPDATE',
          [status, toSqlDateTime(before), limit],
        );
        const ids = selected.map((r) => r.order_id);
        if (ids.length === 0) return { removed: 0, selected: 0 };
        const [, gone] = await tx.commitWith([
          { sql: 'DELETE FROM reservation_items WHERE order_id IN (?)', values: [ids] },
          { sql: 'DELETE FROM reservations WHERE order_id IN (?)', values: [ids] },
        ]);
        return { removed: affectedRows(gone), selected: ids.length };
      });
      deleted += removed;
      if (count >= limit) more = true;
    }
    return { deleted, more };
  }

  async findExpired(now: Date, limit: number): Promise<string[]> {
    const rows = await this.pool.select<{ order_id: string }>(
      "SELECT order_id FROM reservations WHERE status = 'RESERVED' AND expires_at < ? ORDER BY expires_at LIMIT ?",
      [toSqlDateTime(now), limit],
    );
    return rows.map((r) => r.order_id);
  }

  /**
   * Reads the products' versions, then in one round trip applies one conditional UPDATE per item and
   * `then` (the reservation's new status), checked before the pool commits.
   */
  private async moveStock(tx: SqlTransaction, items: ReservationItem[], move: StockMove, then: Statement): Promise<void> {
    const ids = items.map((i) => i.productId);
    const products = await readProducts(tx, ids);
    await this.hooks.beforeStockWrite?.(ids);
    const updates = items.map((item) => {
      const product = products.get(item.productId);
      if (!product) throw new Error(`reserved product ${item.productId} no longer exists`);
      return stockUpdate(move, product, item.quantity);
    });
    checkStockUpdates(await tx.run([...updates, then]), ids);
  }
}

async function readProducts(tx: SqlTransaction, ids: string[]): Promise<Map<string, Product>> {
  const rows = ids.length === 0 ? [] : await tx.select<ProductRow>(SELECT_PRODUCTS, [ids]);
  return new Map(rows.map((row) => [row.id, toProduct(row)]));
}

const lockReservation = async (tx: SqlTransaction, orderId: string) => toReservation(await tx.select<ReservationRow>(selectReservation(true), [orderId]));

const setStatus = (orderId: string, status: ReservationStatus, reason: string | null): Statement => ({
  sql: 'UPDATE reservations SET status = ?, release_reason = ?, updated_at = NOW(3) WHERE order_id = ?',
  values: [status, reason, orderId],
});

/**
 * A take that needs no check of its own: if the product's version is no longer the one read, `available`
 * is set to -1, which products_counters_not_negative refuses (as it refuses a take beyond the stock), so
 * the statement fails, changes nothing, and nothing after it in the round trip runs (COMMIT included).
 * MySQL assigns left to right: `available` is set while `version` still holds the value read. Products
 * are never deleted, so the row read in this transaction is there to update.
 */
const takeStatement = (take: StockTake): Statement => ({
  sql: `UPDATE products SET available = IF(version = ?, available - ?, -1), reserved = reserved + ?, version = version + 1, updated_at = NOW(3)
        WHERE id = ?`,
  values: [take.version, take.quantity, take.quantity, take.productId],
});

/** The reservation rows of many orders: one multi-row INSERT. */
const insertReservations = (commands: ReserveCommand[]): Statement => ({
  sql: `INSERT INTO reservations (order_id, status, placement_id, expires_at, created_at, updated_at)
        VALUES ${commands.map(() => "(?, 'RESERVED', ?, ?, NOW(3), NOW(3))").join(', ')}`,
  values: commands.flatMap((c) => [c.orderId, c.placementId ?? null, toSqlDateTime(c.expiresAt)]),
});

/** Their item rows: one multi-row INSERT. */
const insertItems = (commands: ReserveCommand[]): Statement => ({
  sql: `INSERT INTO reservation_items (order_id, product_id, quantity) VALUES ${commands.flatMap((c) => c.items.map(() => '(?, ?, ?)')).join(', ')}`,
  values: commands.flatMap((c) => c.items.flatMap((item) => [c.orderId, item.productId, item.quantity])),
});
