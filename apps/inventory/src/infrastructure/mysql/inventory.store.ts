import { affectedRows, isDuplicateKey, rowsOf, SqlPool, Statement, toSqlDateTime } from '@orderflow/database';
import { QueryTypes, Sequelize, Transaction } from 'sequelize';
import { ProductNotFoundError, ReservationNotFoundError, ReservationStateError, StockAdjustmentRefusedError, VersionConflict } from '../../domain/errors';
import type { AdjustStockCommand, Product, Reservation, ReservationItem, ReservationStatus, ReserveCommand, StockAdjustment, UpsertProductCommand } from '../../domain/model';
import type { BatchOutcome, InventoryStore, ReservationRetentionStore } from '../../domain/ports';
import { allocateInArrivalOrder, assertReservable, findPriceMismatches } from '../../domain/stock';

interface ProductRow {
  id: string;
  name: string;
  price_minor: number | string;
  available: number | string;
  reserved: number | string;
  sold: number | string;
  received: number | string;
  version: number | string;
}

interface ReservationRow {
  order_id: string;
  status: ReservationStatus;
  placement_id: string | null;
  expires_at: Date | null;
  release_reason: string | null;
  product_id: string | null;
  quantity: number | string | null;
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

const PRODUCT_COLUMNS = 'id, name, price_minor, available, reserved, sold, received, version';

/**
 * MySQL persistence. Every stock change is one conditional UPDATE ... WHERE id = ? AND version = ?
 * (and a counter bound), checked by its affected-row count, in the same transaction as the
 * reservation rows.
 */
export class SequelizeInventoryStore implements InventoryStore, ReservationRetentionStore {
  /** `sql` (plain mysql2) runs the batched Reserve, the hot path: three round trips per batch. */
  constructor(
    private readonly db: Sequelize,
    private readonly sql: SqlPool,
    private readonly hooks: StoreHooks = {},
  ) {}

  async upsertProduct(command: UpsertProductCommand): Promise<{ product: Product; created: boolean }> {
    return this.db.transaction(async (transaction) => {
      // received moves by the change in available, so available + reserved + sold = received holds.
      const [, affected] = await this.db.query(
        `INSERT INTO products (id, name, price_minor, available, reserved, sold, received, version, created_at, updated_at)
         VALUES (:id, :name, :price, :available, 0, 0, :available, 1, NOW(3), NOW(3))
         ON DUPLICATE KEY UPDATE name = VALUES(name), price_minor = VALUES(price_minor),
           received = received + (VALUES(available) - available), available = VALUES(available),
           version = version + 1, updated_at = NOW(3)`,
        { replacements: { id: command.id, name: command.name, price: command.priceMinor, available: command.available }, type: QueryTypes.INSERT, transaction },
      );
      const [product] = await this.readProducts([command.id], transaction);
      // MySQL reports 1 affected row for an insert and 2 for an update.
      return { product: product as Product, created: affected === 1 };
    });
  }

  getProducts(ids: string[]): Promise<Product[]> {
    return this.readProducts(ids);
  }

  async findReservation(orderId: string, transaction?: Transaction, forUpdate = false): Promise<Reservation | undefined> {
    const rows = await this.db.query<ReservationRow>(
      `SELECT r.order_id, r.status, r.placement_id, r.expires_at, r.release_reason, i.product_id, i.quantity
       FROM reservations r LEFT JOIN reservation_items i ON i.order_id = r.order_id
       WHERE r.order_id = :orderId ORDER BY i.product_id${forUpdate ? ' FOR UPDATE' : ''}`,
      { replacements: { orderId }, type: QueryTypes.SELECT, transaction },
    );
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

  async reserveAttempt(command: ReserveCommand): Promise<{ reservation: Reservation; created: boolean }> {
    return this.db.transaction(async (transaction) => {
      const ids = command.items.map((i) => i.productId);
      const products = new Map((await this.readProducts(ids, transaction)).map((p) => [p.id, p]));
      assertReservable(products, command);
      try {
        await this.db.query(
          `INSERT INTO reservations (order_id, status, placement_id, expires_at, created_at, updated_at) VALUES (:orderId, 'RESERVED', :placementId, :expiresAt, NOW(3), NOW(3))`,
          { replacements: { orderId: command.orderId, placementId: command.placementId ?? null, expiresAt: toSqlDateTime(command.expiresAt) }, type: QueryTypes.INSERT, transaction },
        );
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // Another call for this order got there first: report what it stored.
        return { reservation: (await this.findReservation(command.orderId, transaction)) as Reservation, created: false };
      }
      await this.hooks.beforeStockWrite?.(ids);
      for (const item of command.items) {
        const product = products.get(item.productId) as Product;
        await this.conditionalUpdate(
          'available = available - :q, reserved = reserved + :q',
          'available >= :q',
          product,
          item.quantity,
          transaction,
        );
      }
      await this.insertItems(command.orderId, command.items, transaction);
      return { reservation: reservedBy(command), created: true };
    });
  }

  async reserveBatchAttempt(commands: ReserveCommand[]): Promise<BatchOutcome[]> {
    const productIds = [...new Set(commands.map((c) => (c.items[0] as ReservationItem).productId))];
    return this.sql.transaction(async (tx) => {
      // Round trip 1 (opens the transaction): the products, and which orders are already stored
      // (retries, or a call that got there first: they answer from what is stored).
      const [productRows, existingRows] = await tx.run([
        { sql: `SELECT ${PRODUCT_COLUMNS} FROM products WHERE id IN (?)`, values: [productIds] },
        { sql: `SELECT order_id FROM reservations WHERE order_id IN (?)`, values: [commands.map((c) => c.orderId)] },
      ]);
      const products = new Map(rowsOf<ProductRow>(productRows).map((row) => [row.id, toProduct(row)]));
      const existingIds = new Set(rowsOf<{ order_id: string }>(existingRows).map((r) => r.order_id));

      // Each product's fresh requests are filled in the order given, all or nothing each.
      const byOrder = new Map<string, BatchOutcome>();
      const filled: ReserveCommand[] = [];
      const updates: { product: Product; total: number }[] = [];
      for (const productId of productIds) {
        const fresh = commands.filter((c) => c.items[0]?.productId === productId && !existingIds.has(c.orderId));
        const product = products.get(productId);
        if (!product) {
          for (const command of fresh) byOrder.set(command.orderId, { kind: 'not-found' });
          continue;
        }
        // A request expecting another price is refused before any stock is counted for it.
        const priced = fresh.filter((command) => {
          const mismatches = findPriceMismatches(products, command.expectedPrices);
          if (mismatches.length > 0) byOrder.set(command.orderId, { kind: 'price-changed', mismatches });
          return mismatches.length === 0;
        });
        const { outcomes, total } = allocateInArrivalOrder(product.available, priced.map((c) => (c.items[0] as ReservationItem).quantity));
        priced.forEach((command, i) => {
          const outcome = outcomes[i] as 'filled' | { shortOf: number };
          if (outcome === 'filled') {
            filled.push(command);
            byOrder.set(command.orderId, { kind: 'reserved', reservation: reservedBy(command) });
          } else byOrder.set(command.orderId, { kind: 'short', available: outcome.shortOf });
        });
        if (total > 0) updates.push({ product, total });
      }

      if (updates.length > 0) {
        await this.hooks.beforeStockWrite?.(updates.map((u) => u.product.id));
        // Round trip 2: one conditional UPDATE per product (each checked), the reservation rows.
        const results = await tx
          .run([
          ...updates.map(({ product, total }) => ({
            sql: `UPDATE products SET available = available - ?, reserved = reserved + ?, version = version + 1, updated_at = NOW(3) WHERE id = ? AND version = ? AND available >= ?`,
            values: [total, total, product.id, product.version, total],
          })),
          ...reservationStatements(filled),
          ])
          .catch((error: unknown) => {
            // An order id stored meanwhile by a call outside this batch's locks: run again, it will show as stored.
            throw isDuplicateKey(error) ? new VersionConflict(updates[0]!.product.id) : error;
          });
        // A lost race (the lock expired, another writer): the pool rolls back, the caller retries on fresh data.
        updates.forEach(({ product }, i) => {
          if (affectedRows(results[i]) !== 1) throw new VersionConflict(product.id);
        });
      }
      // Round trip 3: COMMIT (by the pool). Stored orders are rare (retries): read them one by one.
      const outcomes: BatchOutcome[] = [];
      for (const command of commands) {
        outcomes.push(byOrder.get(command.orderId) ?? { kind: 'existing', reservation: (await this.findReservation(command.orderId)) as Reservation });
      }
      return outcomes;
    });
  }

  async commitAttempt(orderId: string): Promise<Reservation> {
    return this.db.transaction(async (transaction) => {
      const reservation = await this.findReservation(orderId, transaction, true);
      if (!reservation) throw new ReservationNotFoundError(orderId);
      if (reservation.status === 'COMMITTED') return reservation;
      if (reservation.status === 'RELEASED') throw new ReservationStateError(orderId, reservation.status, 'commit');
      await this.moveStock(reservation.items, 'reserved = reserved - :q, sold = sold + :q', 'reserved >= :q', transaction);
      await this.setStatus(orderId, 'COMMITTED', null, transaction);
      return { ...reservation, status: 'COMMITTED' };
    });
  }

  async prepareCommitAttempt(orderId: string): Promise<Reservation> {
    return this.db.transaction(async (transaction) => {
      const reservation = await this.findReservation(orderId, transaction, true);
      if (!reservation) throw new ReservationNotFoundError(orderId);
      if (reservation.status === 'COMMITTED') return reservation;
      if (reservation.status === 'RELEASED') throw new ReservationStateError(orderId, reservation.status, 'prepare the commit of');
      await this.db.query(`UPDATE reservations SET expires_at = NULL, updated_at = NOW(3) WHERE order_id = :orderId`, {
        replacements: { orderId },
        type: QueryTypes.UPDATE,
        transaction,
      });
      return { ...reservation, expiresAt: undefined };
    });
  }

  async releaseAttempt(orderId: string, reason: string, options: { expiredBefore?: Date } = {}): Promise<Reservation> {
    return this.db.transaction(async (transaction) => {
      const reservation = await this.findReservation(orderId, transaction, true);
      if (options.expiredBefore && reservation?.status === 'RESERVED' && !(reservation.expiresAt && reservation.expiresAt < options.expiredBefore)) {
        throw new ReservationStateError(orderId, 'prepared for commit', 'expire');
      }
      if (!reservation) {
        // Nothing held yet: record the release, so a late Reserve for this order cannot hold stock.
        try {
          await this.db.query(
            `INSERT INTO reservations (order_id, status, release_reason, created_at, updated_at) VALUES (:orderId, 'RELEASED', :reason, NOW(3), NOW(3))`,
            { replacements: { orderId, reason }, type: QueryTypes.INSERT, transaction },
          );
        } catch (error) {
          if (isDuplicateKey(error)) throw new VersionConflict(orderId); // a Reserve won the race: run again
          throw error;
        }
        return { orderId, status: 'RELEASED', items: [], releaseReason: reason };
      }
      if (reservation.status === 'RELEASED') return reservation;
      if (reservation.status === 'COMMITTED') throw new ReservationStateError(orderId, reservation.status, 'release');
      await this.moveStock(reservation.items, 'reserved = reserved - :q, available = available + :q', 'reserved >= :q', transaction);
      await this.setStatus(orderId, 'RELEASED', reason, transaction);
      return { ...reservation, status: 'RELEASED', releaseReason: reason };
    });
  }

  async adjustStockAttempt(command: AdjustStockCommand): Promise<StockAdjustment> {
    return this.db.transaction(async (transaction) => {
      const [product] = await this.readProducts([command.productId], transaction);
      if (!product) throw new ProductNotFoundError([command.productId]);
      if (product.available + command.delta < 0) throw new StockAdjustmentRefusedError(product.id, command.delta, product.available);
      await this.hooks.beforeStockWrite?.([product.id]);
      // received moves with available, so available + reserved + sold = received holds.
      await this.conditionalUpdate('available = available + :q, received = received + :q', 'available + :q >= 0', product, command.delta, transaction);
      const after: Product = { ...product, available: product.available + command.delta, received: product.received + command.delta, version: product.version + 1 };
      const [id] = await this.db.query(
        `INSERT INTO stock_adjustments (product_id, delta, reason, actor_id, available_after, version_after, created_at)
         VALUES (:productId, :delta, :reason, :actorId, :available, :version, NOW(3))`,
        {
          replacements: { productId: product.id, delta: command.delta, reason: command.reason, actorId: command.actorId, available: after.available, version: after.version },
          type: QueryTypes.INSERT,
          transaction,
        },
      );
      return { id: Number(id), product: after };
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
      const { removed, selected: count } = await this.sql.transaction(async (tx) => {
        const [selected] = await tx.run([
          { sql: `SELECT order_id FROM reservations WHERE status = ? AND updated_at < ? ORDER BY updated_at LIMIT ? FOR UPDATE`, values: [status, toSqlDateTime(before), limit] },
        ]);
        const ids = rowsOf<{ order_id: string }>(selected).map((r) => r.order_id);
        if (ids.length === 0) return { removed: 0, selected: 0 };
        const placeholders = ids.map(() => '?').join(', ');
        const [, gone] = await tx.commitWith([
          { sql: `DELETE FROM reservation_items WHERE order_id IN (${placeholders})`, values: ids },
          { sql: `DELETE FROM reservations WHERE order_id IN (${placeholders})`, values: ids },
        ]);
        return { removed: affectedRows(gone), selected: ids.length };
      });
      deleted += removed;
      if (count >= limit) more = true;
    }
    return { deleted, more };
  }

  async findExpired(now: Date, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ order_id: string }>(
      `SELECT order_id FROM reservations WHERE status = 'RESERVED' AND expires_at < :now ORDER BY expires_at LIMIT :limit`,
      { replacements: { now: toSqlDateTime(now), limit }, type: QueryTypes.SELECT },
    );
    return rows.map((r) => r.order_id);
  }

  private async readProducts(ids: string[], transaction?: Transaction): Promise<Product[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.query<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id IN (:ids)`, {
      replacements: { ids },
      type: QueryTypes.SELECT,
      transaction,
    });
    return rows.map(toProduct);
  }

  /** Reads the products' versions, then applies one conditional UPDATE per product. */
  private async moveStock(items: ReservationItem[], set: string, bound: string, transaction: Transaction): Promise<void> {
    const products = new Map((await this.readProducts(items.map((i) => i.productId), transaction)).map((p) => [p.id, p]));
    await this.hooks.beforeStockWrite?.(items.map((i) => i.productId));
    for (const item of items) {
      const product = products.get(item.productId);
      if (!product) throw new Error(`reserved product ${item.productId} no longer exists`);
      await this.conditionalUpdate(set, bound, product, item.quantity, transaction);
    }
  }

  private async conditionalUpdate(set: string, bound: string, product: Product, quantity: number, transaction: Transaction): Promise<void> {
    const [, affected] = await this.db.query(
      `UPDATE products SET ${set}, version = version + 1, updated_at = NOW(3) WHERE id = :id AND version = :version AND ${bound}`,
      { replacements: { id: product.id, version: product.version, q: quantity }, type: QueryTypes.UPDATE, transaction },
    );
    if (affected !== 1) throw new VersionConflict(product.id);
  }

  private async insertItems(orderId: string, items: ReservationItem[], transaction: Transaction): Promise<void> {
    const values = items.map((_, i) => `(:orderId, :p${i}, :q${i})`).join(', ');
    const replacements: Record<string, unknown> = { orderId };
    items.forEach((item, i) => {
      replacements[`p${i}`] = item.productId;
      replacements[`q${i}`] = item.quantity;
    });
    await this.db.query(`INSERT INTO reservation_items (order_id, product_id, quantity) VALUES ${values}`, { replacements, type: QueryTypes.INSERT, transaction });
  }

  private async setStatus(orderId: string, status: ReservationStatus, reason: string | null, transaction: Transaction): Promise<void> {
    await this.db.query(`UPDATE reservations SET status = :status, release_reason = :reason, updated_at = NOW(3) WHERE order_id = :orderId`, {
      replacements: { orderId, status, reason },
      type: QueryTypes.UPDATE,
      transaction,
    });
  }
}

const reservedBy = (command: ReserveCommand): Reservation => ({
  orderId: command.orderId,
  status: 'RESERVED',
  items: command.items,
  expiresAt: command.expiresAt,
  ...(command.placementId ? { placementId: command.placementId } : {}),
});

/** Reservation and item rows of many orders: two multi-row INSERTs. */
function reservationStatements(commands: ReserveCommand[]): Statement[] {
  if (commands.length === 0) return [];
  return [
    {
      sql: `INSERT INTO reservations (order_id, status, placement_id, expires_at, created_at, updated_at) VALUES ${commands.map(() => "(?, 'RESERVED', ?, ?, NOW(3), NOW(3))").join(', ')}`,
      values: commands.flatMap((c) => [c.orderId, c.placementId ?? null, toSqlDateTime(c.expiresAt)]),
    },
    {
      sql: `INSERT INTO reservation_items (order_id, product_id, quantity) VALUES ${commands.flatMap((c) => c.items.map(() => '(?, ?, ?)')).join(', ')}`,
      values: commands.flatMap((c) => c.items.flatMap((item) => [c.orderId, item.productId, item.quantity])),
    },
  ];
}
