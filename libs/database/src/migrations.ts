import type { QueryInterface } from 'sequelize';
import mysql from 'mysql2/promise';
import { SequelizeStorage, Umzug } from 'umzug';
import { createSequelize, type MysqlTarget } from './database';

export interface Migration {
  /** Sortable and unique: "0001-create-products". */
  name: string;
  up(queryInterface: QueryInterface): Promise<void>;
  down(queryInterface: QueryInterface): Promise<void>;
}

export interface MigrateOptions {
  /** How long to wait for another process migrating the same database (default 120 s). */
  lockWaitSeconds?: number;
}

/** MariaDB's named locks are per server, names at most 64 characters. */
export const migrationLockName = (database: string) => `orderflow.migrate.${database}`.slice(0, 64);

/**
 * Applies the migrations not applied yet, in name order; returns the names applied now.
 *
 * Under a server-wide named lock (`GET_LOCK`) per database, held on a connection of its own (outside the
 * pool, so a pool of one still migrates): replicas starting together on an empty database migrate one
 * after another, and the later ones find everything applied. A process that dies while migrating drops
 * its connection and with it the lock.
 */
export async function migrate(target: MysqlTarget, migrations: Migration[], options: MigrateOptions = {}): Promise<string[]> {
  const lockWaitSeconds = options.lockWaitSeconds ?? 120;
  const database = target.database;
  const lock = migrationLockName(database);
  const connection = await mysql.createConnection({ host: target.host, port: target.port, user: target.user, password: target.password });
  // Sequelize serves the schema only: its QueryInterface runs the migrations on a connection of its own,
  // closed when they are done. The services' queries go through one SqlPool per database (ADR 0008).
  const sequelize = createSequelize(target, { max: 1 });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS acquired', [lock, lockWaitSeconds]);
    if (Number(rows[0]?.acquired) !== 1) {
      throw new Error(`could not migrate database "${database}": another process held the migration lock "${lock}" for ${lockWaitSeconds} s`);
    }
    const umzug = new Umzug({
      migrations: [...migrations]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((m) => ({ name: m.name, up: () => m.up(sequelize.getQueryInterface()), down: () => m.down(sequelize.getQueryInterface()) })),
      storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
      logger: undefined,
    });
    const applied = await umzug.up();
    return applied.map((m) => m.name);
  } finally {
    await sequelize.close().catch(() => undefined);
    // Closing the connection releases the lock.
    await connection.end().catch(() => connection.destroy());
  }
}
