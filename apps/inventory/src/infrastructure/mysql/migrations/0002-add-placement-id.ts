import type { Migration } from '@orderflow/database';

/** Which placement attempt made a reservation, so two callers that made the same order id never share one. */
export const addPlacementId: Migration = {
  name: '0002-add-placement-id',
  async up(qi) {
    await qi.sequelize.query(`ALTER TABLE reservations ADD COLUMN placement_id VARCHAR(64) NULL AFTER status`);
  },
  async down(qi) {
    await qi.removeColumn('reservations', 'placement_id');
  },
};
