import { createSqlPool, ensureDatabase, migrate, type MysqlTarget, type SqlPool } from '@orderflow/database';
import type { Component, Logger } from '@orderflow/service-kit';
import { INVENTORY_MIGRATIONS } from './migrations';

/**
 * The inventory database: one SqlPool that every query goes through. At start it creates the database
 * and applies the migrations (when asked; `migrate` opens and closes a connection of its own), then
 * checks the pool reaches the server; at stop it closes the pool.
 */
export function createInventoryDatabase(
  target: MysqlTarget,
  options: { poolMax: number; migrateOnStart: boolean; logger: Logger },
): { pool: SqlPool; component: Component } {
  const pool = createSqlPool(target, { max: options.poolMax });
  const component: Component = {
    name: 'mysql',
    start: async () => {
      if (options.migrateOnStart) {
        await ensureDatabase(target);
        const applied = await migrate(target, INVENTORY_MIGRATIONS);
        if (applied.length > 0) options.logger.info({ applied }, 'migrations applied');
      }
      await pool.ping();
    },
    stop: () => pool.end(),
  };
  return { pool, component };
}
