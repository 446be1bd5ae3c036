import type { Migration } from '@orderflow/database';

/**
 * The admin listing (ListAllOrders) scans backwards from a cursor, filtered by status and optionally by
 * customer. These indexes make each filtered scan one index range read in id order, cut at the page
 * size, instead of walking past orders of other statuses.
 */
export const addListingIndexes: Migration = {
  name: '0002-add-listing-indexes',
  async up(qi) {
    await qi.sequelize.query('CREATE INDEX order_views_status_order ON order_views (status, order_id)');
    await qi.sequelize.query('CREATE INDEX customer_orders_status_order ON customer_orders (customer_id, status, order_id)');
  },
  async down(qi) {
    await qi.sequelize.query('DROP INDEX customer_orders_status_order ON customer_orders');
    await qi.sequelize.query('DROP INDEX order_views_status_order ON order_views');
  },
};
