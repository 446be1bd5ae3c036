import type { Migration } from '@orderflow/database';

/**
 * A keyed placement's claim names the process that runs it (its instance id, ADR 0006), so a repeat of
 * the call can tell a claim whose owner is gone (take it over) from one still running (wait). NULL on
 * rows written before, or while the owner could not prove it was alive: such a claim is waited for as
 * before, and the pending sweeper gives it up.
 */
export const addClaimOwner: Migration = {
  name: '0006-claim-owner',
  async up(qi) {
    await qi.sequelize.query(`ALTER TABLE idempotency_keys ADD COLUMN owner VARCHAR(32) NULL AFTER state`);
  },
  async down(qi) {
    await qi.sequelize.query(`ALTER TABLE idempotency_keys DROP COLUMN owner`);
  },
};
