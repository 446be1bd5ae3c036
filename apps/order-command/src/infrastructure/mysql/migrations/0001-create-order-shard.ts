import type { Migration } from '@orderflow/database';

/**
 * One order shard: orders with their items and history, the idempotency keys of the customers whose
 * bucket lives here, and the transactional outbox. Applied to every shard.
 */
export const createOrderShard: Migration = {
  name: '0001-create-order-shard',
  async up(qi) {
    const sql = (statement: string) => qi.sequelize.query(statement);
    await sql(`
      CREATE TABLE orders (
        id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
        customer_id VARCHAR(64) NOT NULL,
        -- PENDING (id claimed, stock being reserved; never shown), RESERVED, PAID, SHIPPED,
        -- CANCELLED, EXPIRED, FAILED (placement gave up; never shown)
        status VARCHAR(16) NOT NULL,
        total_minor BIGINT NOT NULL,
        address VARCHAR(500) NOT NULL,
        payment_method VARCHAR(32) NOT NULL,
        version INT NOT NULL,
        -- What the order still owes inventory after a state change: COMMIT or RELEASE; settled when done.
        stock_action VARCHAR(8) NULL,
        stock_settled_at DATETIME(3) NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        KEY orders_customer (customer_id, id),
        KEY orders_status_expiry (status, expires_at),
        KEY orders_unsettled (stock_settled_at, stock_action)
      ) ENGINE=InnoDB`);
    await sql(`
      CREATE TABLE order_items (
        order_id BIGINT UNSIGNED NOT NULL,
        line_no SMALLINT NOT NULL,
        product_id VARCHAR(64) NOT NULL,
        quantity INT NOT NULL,
        unit_price_minor BIGINT NOT NULL,
        PRIMARY KEY (order_id, line_no)
      ) ENGINE=InnoDB`);
    await sql(`
      CREATE TABLE order_history (
        order_id BIGINT UNSIGNED NOT NULL,
        version INT NOT NULL,
        status VARCHAR(16) NOT NULL,
        event_id CHAR(36) NOT NULL,
        occurred_at DATETIME(3) NOT NULL,
        PRIMARY KEY (order_id, version)
      ) ENGINE=InnoDB`);
    await sql(`
      CREATE TABLE idempotency_keys (
        customer_id VARCHAR(64) NOT NULL,
        idempotency_key VARCHAR(255) NOT NULL,
        fingerprint CHAR(64) NOT NULL,
        order_id BIGINT UNSIGNED NOT NULL,
        -- IN_FLIGHT while the first call runs; DONE with the stored answer afterwards.
        state VARCHAR(12) NOT NULL,
        response MEDIUMBLOB NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (customer_id, idempotency_key)
      ) ENGINE=InnoDB`);
    await sql(`
      CREATE TABLE outbox (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        event_id CHAR(36) NOT NULL,
        order_id BIGINT UNSIGNED NOT NULL,
        subject VARCHAR(128) NOT NULL,
        -- orderflow.order.v1.OrderEvent, protobuf-encoded
        payload MEDIUMBLOB NOT NULL,
        created_at DATETIME(3) NOT NULL,
        sent_at DATETIME(3) NULL,
        publish_attempts INT NOT NULL DEFAULT 0,
        UNIQUE KEY outbox_event_id (event_id),
        KEY outbox_unsent (sent_at, id)
      ) ENGINE=InnoDB`);
  },
  async down(qi) {
    for (const table of ['outbox', 'idempotency_keys', 'order_history', 'order_items', 'orders']) await qi.dropTable(table);
  },
};
