import type { Migration } from '@orderflow/database';
import { addPlacementId } from './0002-add-placement-id';
import { createStockAdjustments } from './0003-create-stock-adjustments';
import { addReservationPurgeIndex } from './0004-add-reservation-purge-index';

/** Products with their stock counters, and reservations keyed by order id (one row per product). */
export const createInventory: Migration = {
  name: '0001-create-inventory',
  async up(qi) {
    const sql = (statement: string) => qi.sequelize.query(statement);
    await sql(`
      CREATE TABLE products (
        id VARCHAR(64) NOT NULL PRIMARY KEY,
        name VARCHAR(200) NOT NULL,
        price_minor BIGINT NOT NULL,
        available BIGINT NOT NULL DEFAULT 0,
        reserved BIGINT NOT NULL DEFAULT 0,
        sold BIGINT NOT NULL DEFAULT 0,
        received BIGINT NOT NULL DEFAULT 0,
        version BIGINT NOT NULL DEFAULT 0,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        -- Defence in depth: even a buggy UPDATE cannot oversell or break conservation.
        CONSTRAINT products_counters_not_negative CHECK (available >= 0 AND reserved >= 0 AND sold >= 0),
        CONSTRAINT products_stock_conserved CHECK (available + reserved + sold = received)
      ) ENGINE=InnoDB`);
    await sql(`
      CREATE TABLE reservations (
        order_id VARCHAR(64) NOT NULL PRIMARY KEY,
        status VARCHAR(16) NOT NULL,
        expires_at DATETIME(3) NULL,
        release_reason VARCHAR(64) NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        KEY reservations_status_expiry (status, expires_at)
      ) ENGINE=InnoDB`);
    await sql(`
      CREATE TABLE reservation_items (
        order_id VARCHAR(64) NOT NULL,
        product_id VARCHAR(64) NOT NULL,
        quantity BIGINT NOT NULL,
        PRIMARY KEY (order_id, product_id),
        KEY reservation_items_product (product_id)
      ) ENGINE=InnoDB`);
  },
  async down(qi) {
    for (const table of ['reservation_items', 'reservations', 'products']) await qi.dropTable(table);
  },
};

export const INVENTORY_MIGRATIONS: Migration[] = [createInventory, addPlacementId, createStockAdjustments, addReservationPurgeIndex];
