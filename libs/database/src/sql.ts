import mysql from 'mysql2/promise';
import type { MysqlTarget, PoolOptions } from './database';

/** One SQL statement with its `?` values (escaped on the client, as mysql2's `query` does). */
export interface Statement {
  sql: string;
  values?: unknown[];
}

/** What a statement returned: rows for a SELECT, the affected-row count and insert id for a write. */
export type StatementResult = mysql.RowDataPacket[] | mysql.ResultSetHeader;

export const rowsOf = <T>(result: StatementResult | undefined): T[] => (Array.isArray(result) ? (result as unknown as T[]) : []);
export const affectedRows = (result: StatementResult | undefined): number => (result && !Array.isArray(result) ? result.affectedRows : 0);

const toSql = (s: Statement) => (s.values ? mysql.format(s.sql, s.values as never[]) : s.sql);

const BEGIN = 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION';

/**
 * A transaction whose statements travel in as few round trips as the logic allows: `run` sends every
 * statement it is given in ONE query (multi-statement), the first call also opens the transaction, and
 * `commitWith` appends the COMMIT to its own round trip. On this kind of machine the cost of a write
 * path is mostly round trips (a socket write and a wake-up each), not SQL.
 */
export class SqlTransaction {
  private started = false;
  committed = false;

  constructor(private readonly connection: mysql.PoolConnection) {}

  get open(): boolean {
    return this.started && !this.committed;
  }

  /** Runs the statements in one round trip and returns one result per statement. */
  run(statements: Statement[]): Promise<StatementResult[]> {
    return this.send(statements, false);
  }

  /** The rows of one SELECT, in its own round trip (`?` placeholders). */
  async select<T>(sql: string, values?: unknown[]): Promise<T[]> {
    return rowsOf<T>((await this.send([{ sql, values }], false))[0]);
  }

  /** Runs the statements and COMMIT in one round trip. */
  commitWith(statements: Statement[]): Promise<StatementResult[]> {
    return this.send(statements, true);
  }

  private async send(statements: Statement[], commit: boolean): Promise<StatementResult[]> {
    if (this.committed) throw new Error('transaction already committed');
    const parts: string[] = [];
    const lead = this.started ? 0 : 2;
    if (!this.started) parts.push(BEGIN);
    parts.push(...statements.map(toSql));
    if (commit) parts.push('COMMIT');
    if (parts.length === 0) return [];
    this.started = true;
    const [raw] = await this.connection.query(parts.join(';\n'));
    if (commit) this.committed = true;
    // One statement comes back as its own result, several as an array with one result each.
    const count = lead + statements.length + (commit ? 1 : 0);
    const results = (count === 1 ? [raw] : (raw as unknown as StatementResult[])) as StatementResult[];
    return results.slice(lead, lead + statements.length);
  }
}

/**
 * A service's one pool per database (ADR 0008): every query at run time goes through it (Sequelize
 * serves only the schema, in migrate()). Plain mysql2: multi-statement queries, READ COMMITTED
 * transactions, DATETIMEs in UTC as Date, BIGINT/DECIMAL and COUNT(*) as strings (bigNumberStrings).
 */
export class SqlPool {
  private readonly pool: mysql.Pool;

  constructor(target: MysqlTarget, options: PoolOptions) {
    this.pool = mysql.createPool({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      connectionLimit: options.max,
      maxIdle: options.max,
      idleTimeout: 30_000,
      connectTimeout: 5_000,
      multipleStatements: true,
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: true,
      enableKeepAlive: true,
      // No stack capture per query (an Error per call, ~3% of a service's CPU in profiles); errors keep their code and message.
      trace: false,
    });
  }

  /** One autocommitted round trip of one or more statements. */
  async run(statements: Statement[]): Promise<StatementResult[]> {
    const sql = statements.map(toSql).join(';\n');
    const [raw] = await this.pool.query(sql);
    return (statements.length === 1 ? [raw] : raw) as StatementResult[];
  }

  /** The rows of one SELECT (`?` placeholders). */
  async select<T>(sql: string, values?: unknown[]): Promise<T[]> {
    return rowsOf<T>((await this.run([{ sql, values }]))[0]);
  }

  /** One round trip that fails when the server cannot be reached (readiness at start). */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /**
   * Runs `work` in a transaction on one connection. It commits through `commitWith` (or here, after
   * `work` returns, when it did not); any error rolls back. A connection in doubt is destroyed, not reused.
   */
  async transaction<T>(work: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const connection = await this.pool.getConnection();
    const tx = new SqlTransaction(connection);
    try {
      const result = await work(tx);
      if (tx.open) await tx.commitWith([]);
      connection.release();
      return result;
    } catch (error) {
      let reusable = true;
      if (!tx.committed) {
        await connection.query('ROLLBACK').catch(() => {
          reusable = false;
        });
      }
      if (reusable) connection.release();
      else connection.destroy();
      throw error;
    }
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

export const createSqlPool = (target: MysqlTarget, options: PoolOptions) => new SqlPool(target, options);
