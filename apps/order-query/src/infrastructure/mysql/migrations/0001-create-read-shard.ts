import type { Migration } from '@orderflow/database';
import { addListingIndexes } from './0002-add-listing-indexes';
import { addCustomerOrdersOrderIndex } from './0004-order-id-index';
import { fenceMany } from './0005-fence-many';
import { shardControl } from './0003-shard-control';

/**
 * One read shard: the denormalized order views and the per-customer listing, for the buckets this
 * shard holds. Applied to every read shard. Ids compare as binary strings (utf8mb4_bin): "Alice" and
 * "alice" are different customers.
 */
export const createReadShard: Migration = {
  name: '0001-create-read-shard',
  async up(qi) {
    const sql = (statement: string) => qi.sequelize.query(statement);
    await sql(`
      CREATE TABLE order_views (
        order_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
        customer_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
        status VARCHAR(16) NOT NULL,
        total_minor BIGINT NOT NULL,
        address TEXT NOT NULL,
        payment_method VARCHAR(64) NOT NULL,
        -- The order's version after the last applied event: the projection applies only version + 1.
        version BIGINT NOT NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        -- [{"product_id","quantity","unit_price_minor"}], in the order's line order
        items MEDIUMTEXT NOT NULL,
        last_event_id VARCHAR(64) NOT NULL,
        event_occurred_at DATETIME(3) NOT NULL,
        projected_at DATETIME(3) NOT NULL
      ) ENGINE=InnoDB`);
    await sql(`
      CREATE TABLE customer_orders (
        customer_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
        order_id BIGINT UNSIGNED NOT NULL,
        status VARCHAR(16) NOT NULL,
        total_minor BIGINT NOT NULL,
        version BIGINT NOT NULL,
        created_at DATETIME(3) NOT NULL,
        -- Newest first is a backward scan of this key: order ids are time-ordered.
        PRIMARY KEY (customer_id, order_id)
      ) ENGINE=InnoDB`);
  },
  async down(qi) {
    for (const table of ['customer_orders', 'order_views']) await qi.dropTable(table);
  },
};

export const READ_SHARD_MIGRATIONS: Migration[] = [createReadShard, addListingIndexes, shardControl, addCustomerOrdersOrderIndex, fenceMany];
