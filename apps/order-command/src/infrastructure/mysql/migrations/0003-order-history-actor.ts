import type { Migration } from '@orderflow/database';

/**
 * Who made each status change and why: `actor_kind` (CUSTOMER, ADMIN or SYSTEM), `actor_id` (the
 * customer's id or the admin's token subject; NULL for the system) and `reason` (a few words). Columns
 * with defaults are added in place (instant in MariaDB), then the rows written before are filled from
 * what is known: placed and paid by the order's customer (only the owner pays), shipped by an admin
 * (not named), expired by the system; a cancellation says in its outbox event who made it.
 */
export const addOrderHistoryActor: Migration = {
  name: '0003-order-history-actor',
  async up(qi) {
    const sql = (statement: string) => qi.sequelize.query(statement);
    await sql(`
      ALTER TABLE order_history
        ADD COLUMN actor_kind VARCHAR(8) NOT NULL DEFAULT 'SYSTEM',
        ADD COLUMN actor_id VARCHAR(64) NULL,
        ADD COLUMN reason VARCHAR(64) NOT NULL DEFAULT ''`);
    // An OrderCancelled event is the protobuf OrderEvent whose last field (12, the highest number, so
    // written last) is {cancelled_by: "admin"}: its encoding ends with these bytes.
    const cancelledByAdmin = `RIGHT(x.payload, 9) = X'62070A0561646D696E'`;
    await sql(`
      UPDATE order_history h
        JOIN orders o ON o.id = h.order_id
        LEFT JOIN outbox x ON x.event_id = h.event_id
      SET
        h.actor_kind = CASE
          WHEN h.status = 'SHIPPED' THEN 'ADMIN'
          WHEN h.status = 'EXPIRED' THEN 'SYSTEM'
          WHEN h.status = 'CANCELLED' AND ${cancelledByAdmin} THEN 'ADMIN'
          ELSE 'CUSTOMER' END,
        h.actor_id = CASE
          WHEN h.status IN ('SHIPPED', 'EXPIRED') THEN NULL
          WHEN h.status = 'CANCELLED' AND ${cancelledByAdmin} THEN NULL
          ELSE o.customer_id END,
        h.reason = CASE h.status
          WHEN 'RESERVED' THEN 'placed'
          WHEN 'PAID' THEN 'paid'
          WHEN 'SHIPPED' THEN 'shipped'
          WHEN 'EXPIRED' THEN 'payment window expired'
          WHEN 'CANCELLED' THEN IF(${cancelledByAdmin}, 'cancelled by an admin', 'cancelled by the customer')
          ELSE LOWER(h.status) END`);
  },
  async down(qi) {
    await qi.sequelize.query(`ALTER TABLE order_history DROP COLUMN actor_kind, DROP COLUMN actor_id, DROP COLUMN reason`);
  },
};
