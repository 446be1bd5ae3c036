import type { Migration } from '@orderflow/database';

/**
 * Every admin stock adjustment (AdjustStock): what changed, why, who, when, and the available stock right
 * after it. Written in the same transaction as the products UPDATE it records.
 */
export const createStockAdjustments: Migration = {
  name: '0003-create-stock-adjustments',
  async up(qi) {
    await qi.sequelize.query(`
      CREATE TABLE stock_adjustments (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        product_id VARCHAR(64) NOT NULL,
        delta BIGINT NOT NULL,
        -- Any script: 200 characters, not bytes.
        reason VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        actor_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        available_after BIGINT NOT NULL,
        -- The product's version the adjustment produced.
        version_after BIGINT NOT NULL,
        created_at DATETIME(3) NOT NULL,
        KEY stock_adjustments_product (product_id, id)
      ) ENGINE=InnoDB`);
  },
  async down(qi) {
    await qi.dropTable('stock_adjustments');
  },
};
