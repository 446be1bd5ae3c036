import type { Migration } from '@orderflow/database';

/**
 * The W3C traceparent of the request that wrote each outbox row, so the relay's publish (and the
 * projection after it) continue that request's trace. NULL when tracing was off or nothing traced
 * the write (the sweepers). A nullable column is added in place, without copying the table.
 */
export const addOutboxTraceparent: Migration = {
  name: '0002-outbox-traceparent',
  async up(qi) {
    // 55 characters in version 00 of the format; room for a later version's extra fields.
    await qi.sequelize.query(`ALTER TABLE outbox ADD COLUMN traceparent VARCHAR(128) NULL`);
  },
  async down(qi) {
    await qi.removeColumn('outbox', 'traceparent');
  },
};
