import type { Migration } from '@orderflow/database';

/**
 * The retention purge deletes settled reservations by age, one status at a time:
 * `WHERE status = ? AND updated_at < ? ORDER BY updated_at LIMIT n` reads this index's range only.
 */
export const addReservationPurgeIndex: Migration = {
  name: '0004-add-reservation-purge-index',
  async up(qi) {
    await qi.sequelize.query(`ALTER TABLE reservations ADD KEY reservations_status_updated (status, updated_at)`);
  },
  async down(qi) {
    await qi.sequelize.query(`ALTER TABLE reservations DROP KEY reservations_status_updated`);
  },
};
