import type { Migration } from '@orderflow/database';

/**
 * payment_method is the client's own text (any script, 1-64 characters, as the read side already
 * stores it), no longer one of a few short words. 32 -> 64 characters of utf8mb4 crosses 255 bytes,
 * so MariaDB copies the table once.
 */
export const widenPaymentMethod: Migration = {
  name: '0004-payment-method-text',
  async up(qi) {
    await qi.sequelize.query(`ALTER TABLE orders MODIFY COLUMN payment_method VARCHAR(64) NOT NULL`);
  },
  async down(qi) {
    await qi.sequelize.query(`ALTER TABLE orders MODIFY COLUMN payment_method VARCHAR(32) NOT NULL`);
  },
};
