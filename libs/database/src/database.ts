import mysql from 'mysql2/promise';
import { Sequelize } from 'sequelize';

export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface PoolOptions {
  max: number;
  /** How long a query waits for a free connection before failing (Sequelize only: a SqlPool waits until one is free). */
  acquireTimeoutMs?: number;
}

/** Creates the database if it does not exist yet (the user needs the CREATE privilege). */
export async function ensureDatabase(target: MysqlTarget): Promise<void> {
  if (!/^[A-Za-z0-9_]+$/.test(target.database)) throw new Error(`unsafe database name "${target.database}"`);
  const connection = await mysql.createConnection({ host: target.host, port: target.port, user: target.user, password: target.password });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${target.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await connection.end();
  }
}

export async function dropDatabase(target: MysqlTarget): Promise<void> {
  if (!/^[A-Za-z0-9_]+$/.test(target.database)) throw new Error(`unsafe database name "${target.database}"`);
  const connection = await mysql.createConnection({ host: target.host, port: target.port, user: target.user, password: target.password });
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${target.database}\``);
  } finally {
    await connection.end();
  }
}

/** A Sequelize instance for the schema (migrate() runs its QueryInterface); queries at run time use a SqlPool (ADR 0008). */
export function createSequelize(target: MysqlTarget, pool: PoolOptions): Sequelize {
  return new Sequelize(target.database, target.user, target.password, {
    host: target.host,
    port: target.port,
    dialect: 'mysql',
    logging: false,
    timezone: '+00:00',
    // READ COMMITTED per session, once per connection: Sequelize's per-transaction isolationLevel
    // option costs an extra round trip on every transaction.
    hooks: {
      afterConnect: (connection: unknown) =>
        new Promise<void>((resolve, reject) =>
          (connection as { query: (sql: string, cb: (error: Error | null) => void) => void }).query(
            'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
            (error) => (error ? reject(error) : resolve()),
          ),
        ),
    },
    pool: { max: pool.max, min: 0, acquire: pool.acquireTimeoutMs ?? 10_000, idle: 30_000 },
    dialectOptions: { supportBigNumbers: true, bigNumberStrings: false, connectTimeout: 5_000 },
  });
}

/** A Date as a DATETIME(3) literal in UTC. (Sequelize's own formatting of replacements drops the milliseconds.) */
export function toSqlDateTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
