import type { Migration } from '@orderflow/database';

/**
 * The retention purge deletes DONE idempotency keys by age: `WHERE state = 'DONE' AND created_at < ?
 * ORDER BY created_at LIMIT n` reads this index's range, never the table. (Published outbox rows are
 * deleted through the existing `outbox_unsent (sent_at, id)` index.)
 */
export const addPurgeIndexes: Migration = {
  name: '0005-purge-indexes',
  async up(qi) {
    await qi.sequelize.query(`ALTER TABLE idempotency_keys ADD KEY idempotency_keys_state_created (state, created_at)`);
  },
  async down(qi) {
    await qi.sequelize.query(`ALTER TABLE idempotency_keys DROP KEY idempotency_keys_state_created`);
  },
};
