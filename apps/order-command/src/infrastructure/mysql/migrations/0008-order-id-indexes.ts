import type { Migration } from '@orderflow/database';

/**
 * A bucket move's catch-up replaces the rows of the orders it saw change, `WHERE order_id IN (...)` on
 * every table, on both shards, some of it while the bucket's writes wait (ADR 0009). orders, order_items
 * and order_history are keyed by the order id already; these two were walked whole.
 */
export const addOrderIdIndexes: Migration = {
  name: '0008-order-id-indexes',
  async up(qi) {
    await qi.sequelize.query(`ALTER TABLE idempotency_keys ADD KEY idempotency_keys_order (order_id)`);
    await qi.sequelize.query(`ALTER TABLE outbox ADD KEY outbox_order (order_id)`);
  },
  async down(qi) {
    await qi.sequelize.query(`ALTER TABLE outbox DROP KEY outbox_order`);
    await qi.sequelize.query(`ALTER TABLE idempotency_keys DROP KEY idempotency_keys_order`);
  },
};
