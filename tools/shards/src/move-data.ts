import { toSqlDateTime, type Statement } from '@orderflow/database';
import mysql from 'mysql2/promise';
import { bucketsOf } from './map-math';
import type { BucketMismatch, MoveRecord, TableProgress } from './move-record';
import { MoveRefusedError, type ShardSet } from './shard-set';
import {
  bucketChecksums,
  copyBatchSelect,
  countRange,
  createTriggers,
  deleteByKeys,
  deleteRowsOfOrders,
  keyBatchSelect,
  rowsOfOrders,
  TRIGGER_PREFIX,
  upsertRows,
  type BucketRange,
} from './sql';
import type { TableSpec } from './tables';

/** Changes one catch-up round takes (their orders' rows are read in one snapshot and replaced in one transaction). */
const CHANGES_PER_ROUND = 2_000;
/** Orders one round replaces at most (the size of its transaction on the target). */
const ORDERS_PER_ROUND = 500;
/** How long a trigger's DDL waits for its table's metadata lock before it steps aside (and how often it tries). */
const DDL_LOCK_WAIT_SECONDS = 1;
const DDL_ATTEMPTS = 60;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rows as the target's upsert needs them: DATETIMEs as UTC literals (mysql2 would format a Date in the local zone). */
const forWrite = (rows: Record<string, unknown>[]) =>
  rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? toSqlDateTime(v) : v])));

/**
 * The rows of a move's buckets between its two shards (ADR 0009): the source's triggers, the copy in key
 * order, the catch-up from the changes, the checksums, the deletes. Every operation is idempotent; the
 * state machine (mover.ts) decides when each runs.
 */
export class MoveData {
  constructor(
    private readonly set: ShardSet,
    private readonly log: (message: string) => void,
  ) {}

  /** The triggers of the move on its source (after any left by an earlier move are dropped). */
  async createTriggers(move: MoveRecord): Promise<void> {
    await this.dropTriggers(move.source);
    await this.ddl(
      move.source,
      this.set.tables.flatMap((table) => createTriggers(move.id, table, move.range)),
    );
  }

  /** The moving rows of a table on the source now (the copy's total, an estimate: writes go on). */
  async countRows(move: MoveRecord, table: TableSpec): Promise<number> {
    const [row] = await this.set.pool(move.source).select<{ n: string }>(countRange(table, move.range).sql);
    return Number(row?.n ?? 0);
  }

  /** Copies the next batch of a table after its cursor (upserts: a batch copied twice changes nothing); returns the rows copied. */
  async copyBatch(move: MoveRecord, table: TableSpec, t: TableProgress): Promise<number> {
    const select = copyBatchSelect(table, move.range, t.cursor, move.progress.batch);
    const rows = await this.set.pool(move.source).select<Record<string, unknown>>(select.sql, select.values);
    const upsert = upsertRows(table, forWrite(rows));
    if (upsert) await this.set.pool(move.target).run([upsert]);
    const last = rows[rows.length - 1];
    if (last) t.cursor = table.primaryKey.map((column) => last[column]);
    t.copied += rows.length;
    t.done = rows.length < move.progress.batch;
    return rows.length;
  }

  async emptyChanges(shard: number): Promise<void> {
    await this.set.pool(shard).run([{ sql: 'DELETE FROM shard_changes' }]);
  }

  /** Closes the snapshot connections. */
  async close(): Promise<void> {
    for (const snapshot of this.snapshots.values()) await snapshot.end().catch(() => snapshot.destroy());
    this.snapshots.clear();
  }

  /**
   * One catch-up round: the oldest changes and the source's rows of their orders, read in one consistent
   * snapshot; those orders' rows replaced on the target; the changes taken deleted (never skipped by a
   * cursor: a smaller sequence may commit after a larger one).
   */
  async applyChanges(move: MoveRecord): Promise<{ changes: number; orders: number }> {
    const snapshot = await this.snapshotConnection(move.source);
    let seqs: string[];
    let orderIds: string[];
    const rows = new Map<string, Record<string, unknown>[]>();
    try {
      await snapshot.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      const [changes] = await snapshot.query<mysql.RowDataPacket[]>(
        'SELECT CAST(seq AS CHAR) AS seq, CAST(order_id AS CHAR) AS order_id FROM shard_changes ORDER BY seq LIMIT ?',
        [CHANGES_PER_ROUND],
      );
      seqs = changes.map((c) => c.seq as string);
      orderIds = [...new Set(changes.map((c) => c.order_id as string))].slice(0, ORDERS_PER_ROUND);
      const kept = new Set(orderIds);
      seqs = changes.filter((c) => kept.has(c.order_id as string)).map((c) => c.seq as string);
      if (orderIds.length > 0) {
        for (const table of this.set.tables) {
          const statement = rowsOfOrders(table, orderIds);
          const [found] = await snapshot.query<mysql.RowDataPacket[]>(statement.sql, statement.values);
          rows.set(table.name, found as Record<string, unknown>[]);
        }
      }
      await snapshot.query('COMMIT');
    } catch (error) {
      this.snapshots.delete(move.source);
      snapshot.destroy();
      throw error;
    }
    if (orderIds.length === 0) return { changes: 0, orders: 0 };
    await this.set.pool(move.target).transaction(async (tx) => {
      const statements = this.set.tables.flatMap((table) => {
        const upsert = upsertRows(table, forWrite(rows.get(table.name) ?? []));
        return [deleteRowsOfOrders(table, orderIds), ...(upsert ? [upsert] : [])];
      });
      await tx.commitWith(statements);
    });
    await this.set.pool(move.source).run([{ sql: 'DELETE FROM shard_changes WHERE seq IN (?)', values: [seqs] }]);
    move.progress.changesApplied += seqs.length;
    return { changes: seqs.length, orders: orderIds.length };
  }

  async backlog(move: MoveRecord): Promise<number> {
    const [row] = await this.set.pool(move.source).select<{ n: string }>('SELECT COUNT(*) AS n FROM shard_changes');
    return Number(row?.n ?? 0);
  }

  /** Row count and checksum per table per bucket, source against target. */
  async verify(move: Pick<MoveRecord, 'range' | 'source' | 'target'>): Promise<{ mismatches: BucketMismatch[]; rows: number }> {
    const mismatches: BucketMismatch[] = [];
    let rows = 0;
    for (const table of this.set.tables) {
      const [source, target] = await Promise.all([this.checksums(move.source, table, move.range), this.checksums(move.target, table, move.range)]);
      for (const bucket of bucketsOf(move.range)) {
        const s = source.get(bucket) ?? { rows: 0, checksum: '0:0' };
        const t = target.get(bucket) ?? { rows: 0, checksum: '0:0' };
        rows += s.rows;
        if (s.rows !== t.rows || s.checksum !== t.checksum) mismatches.push({ table: table.name, bucket, source: s, target: t });
      }
    }
    return { mismatches, rows };
  }

  private async checksums(shard: number, table: TableSpec, range: BucketRange): Promise<Map<number, { rows: number; checksum: string }>> {
    const rows = await this.set.pool(shard).select<{ bucket: number; row_count: string; hi: string; lo: string }>(bucketChecksums(table, range).sql);
    return new Map(rows.map((r) => [Number(r.bucket), { rows: Number(r.row_count), checksum: `${r.hi}:${r.lo}` }]));
  }

  async dropTriggers(shard: number): Promise<void> {
    const rows = await this.set
      .pool(shard)
      .select<{ name: string }>(`SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME LIKE ?`, [
        `${TRIGGER_PREFIX.replace(/_/g, '\\_')}%`,
      ]);
    await this.ddl(
      shard,
      rows.map(({ name }) => ({ sql: `DROP TRIGGER IF EXISTS \`${name}\`` })),
    );
  }

  /**
   * Creates or drops triggers without stalling the writers. A trigger's DDL needs the table's exclusive
   * metadata lock, and while it waits, every new writer of the table queues behind it; a writer that holds
   * the table and waits for a row lock of a queued one makes a cycle no deadlock detector sees (metadata
   * lock against row lock) until innodb_lock_wait_timeout (50 s). So each statement waits at most
   * DDL_LOCK_WAIT_SECONDS for its lock, then steps aside for a moment and tries again.
   */
  private async ddl(shard: number, statements: Statement[]): Promise<void> {
    if (statements.length === 0) return;
    const connection = await this.connect(shard);
    try {
      await connection.query(`SET SESSION lock_wait_timeout = ${DDL_LOCK_WAIT_SECONDS}`);
      for (const statement of statements) {
        for (let attempt = 1; ; attempt++) {
          try {
            await connection.query(statement.sql);
            break;
          } catch (error) {
            if ((error as { code?: string }).code !== 'ER_LOCK_WAIT_TIMEOUT' || attempt >= DDL_ATTEMPTS) throw error;
            this.log(`${statement.sql.slice(0, 60)}...: the table is busy, trying again (${attempt}/${DDL_ATTEMPTS})`);
            await sleep(100 + Math.random() * 200);
          }
        }
      }
    } finally {
      await connection.end().catch(() => connection.destroy());
    }
  }

  /** Deletes every row of the buckets in each table, a batch per statement; returns how many. */
  async deleteRange(shard: number, range: BucketRange, batch: number): Promise<number> {
    const pool = this.set.pool(shard);
    let deleted = 0;
    for (const table of this.set.tables) {
      let cursor: unknown[] | undefined;
      for (;;) {
        const select = keyBatchSelect(table, range, cursor, batch);
        const keys = await pool.select<Record<string, unknown>>(select.sql, select.values);
        const last = keys[keys.length - 1];
        if (!last) break;
        const [result] = await pool.run([deleteByKeys(table, keys)]);
        deleted += (result as { affectedRows: number }).affectedRows;
        cursor = table.primaryKey.map((column) => last[column]);
        if (keys.length < batch) break;
      }
    }
    return deleted;
  }

  private readonly snapshots = new Map<number, mysql.Connection>();

  /** A connection of its own for the catch-up's snapshots (REPEATABLE READ, unlike the pools' transactions). */
  private async snapshotConnection(shard: number): Promise<mysql.Connection> {
    let connection = this.snapshots.get(shard);
    if (!connection) {
      connection = await this.connect(shard);
      await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      this.snapshots.set(shard, connection);
    }
    return connection;
  }

  async connect(shard: number): Promise<mysql.Connection> {
    const t = this.set.targets[shard];
    if (!t) throw new MoveRefusedError(`no shard ${shard}`);
    return mysql.createConnection({ ...t, timezone: 'Z', supportBigNumbers: true, bigNumberStrings: true });
  }
}
