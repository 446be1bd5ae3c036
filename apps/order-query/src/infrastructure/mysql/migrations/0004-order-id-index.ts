import type { Migration } from '@orderflow/database';

/**
 * A bucket move's catch-up replaces the rows of the orders it saw change, `WHERE order_id IN (...)`
 * (ADR 0009); the listing is keyed by customer first, so without this it was walked whole.
 */
export const addCustomerOrdersOrderIndex: Migration = {
  name: '0004-order-id-index',
  async up(qi) {
    await qi.sequelize.query(`ALTER TABLE customer_orders ADD KEY customer_orders_order (order_id)`);
  },
  async down(qi) {
    await qi.sequelize.query(`ALTER TABLE customer_orders DROP KEY customer_orders_order`);
  },
};
