import type { Statement } from '@orderflow/database';
import { copiedColumns, type TableSpec, verifiedColumns } from './tables';

/** Buckets `first..last`, both included. */
export interface BucketRange {
  first: number;
  last: number;
}

export const quote = (identifier: string) => {
  if (!/^[A-Za-z0-9_]+$/.test(identifier)) throw new Error(`unsafe identifier "${identifier}"`);
  return `\`${identifier}\``;
};

/** The bucket of a row, from its order id (ADR 0009: bits 12..21 of the id). */
export const bucketOf = (orderIdColumn: string) => `((${orderIdColumn} >> 12) & 1023)`;

export const inRange = (table: TableSpec, range: BucketRange) => `${bucketOf(quote(table.orderIdColumn))} BETWEEN ${range.first} AND ${range.last}`;

/**
 * Keyset pagination on a (possibly composite) primary key: `(a, b) > (x, y)` spelled as
 * `a > x OR (a = x AND b > y)`, which the optimizer reads as a range of the key.
 */
export function afterKey(primaryKey: readonly string[], cursor: readonly unknown[]): Statement {
  const parts: string[] = [];
  const values: unknown[] = [];
  primaryKey.forEach((column, i) => {
    const equal = primaryKey.slice(0, i).map((c) => `${quote(c)} = ?`);
    parts.push(`(${[...equal, `${quote(column)} > ?`].join(' AND ')})`);
    values.push(...cursor.slice(0, i), cursor[i]);
  });
  return { sql: `(${parts.join(' OR ')})`, values };
}

/** The next batch of a table's moving rows after `cursor` (undefined: from the start), in key order. */
export function copyBatchSelect(table: TableSpec, range: BucketRange, cursor: readonly unknown[] | undefined, limit: number): Statement {
  const columns = table.columns.map(quote).join(', ');
  const after = cursor ? afterKey(table.primaryKey, cursor) : undefined;
  return {
    sql: `SELECT ${columns} FROM ${quote(table.name)} WHERE ${inRange(table, range)}${after ? ` AND ${after.sql}` : ''}
          ORDER BY ${table.primaryKey.map(quote).join(', ')} LIMIT ${Math.floor(limit)}`,
    values: after?.values ?? [],
  };
}

/** Writes rows to the target, replacing a row with the same key (the copy is idempotent). */
export function upsertRows(table: TableSpec, rows: readonly Record<string, unknown>[]): Statement | undefined {
  if (rows.length === 0) return undefined;
  const columns = copiedColumns(table);
  const values = rows.flatMap((row) => columns.map((column) => row[column]));
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  return {
    sql: `INSERT INTO ${quote(table.name)} (${columns.map(quote).join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}
          ON DUPLICATE KEY UPDATE ${columns.map((c) => `${quote(c)} = VALUES(${quote(c)})`).join(', ')}`,
    values,
  };
}

/** A table's rows of some orders, in key order. */
export function rowsOfOrders(table: TableSpec, orderIds: readonly string[]): Statement {
  return {
    sql: `SELECT ${table.columns.map(quote).join(', ')} FROM ${quote(table.name)} WHERE ${quote(table.orderIdColumn)} IN (?)
          ORDER BY ${table.primaryKey.map(quote).join(', ')}`,
    values: [orderIds],
  };
}

export function deleteRowsOfOrders(table: TableSpec, orderIds: readonly string[]): Statement {
  return { sql: `DELETE FROM ${quote(table.name)} WHERE ${quote(table.orderIdColumn)} IN (?)`, values: [orderIds] };
}

/** The next batch of a table's keys in the buckets after `cursor`, in key order (a cleanup walks the table once). */
export function keyBatchSelect(table: TableSpec, range: BucketRange, cursor: readonly unknown[] | undefined, limit: number): Statement {
  const after = cursor ? afterKey(table.primaryKey, cursor) : undefined;
  return {
    sql: `SELECT ${table.primaryKey.map(quote).join(', ')} FROM ${quote(table.name)} WHERE ${inRange(table, range)}${after ? ` AND ${after.sql}` : ''}
          ORDER BY ${table.primaryKey.map(quote).join(', ')} LIMIT ${Math.floor(limit)}`,
    values: after?.values ?? [],
  };
}

/** Deletes rows by their primary keys (each one a key lookup: no scan, no gap locks). */
export function deleteByKeys(table: TableSpec, keys: readonly Record<string, unknown>[]): Statement {
  const match = `(${table.primaryKey.map((c) => `${quote(c)} = ?`).join(' AND ')})`;
  return {
    sql: `DELETE FROM ${quote(table.name)} WHERE ${keys.map(() => match).join(' OR ')}`,
    values: keys.flatMap((key) => table.primaryKey.map((c) => key[c])),
  };
}

export function countRange(table: TableSpec, range: BucketRange): Statement {
  return { sql: `SELECT COUNT(*) AS n FROM ${quote(table.name)} WHERE ${inRange(table, range)}` };
}

/**
 * Row count and a 128-bit checksum per bucket: each row's verified columns as hex (NULL as '-', which hex
 * never contains) joined, MD5, and the XOR of the digests' two 64-bit halves over the bucket's rows.
 * XOR makes it independent of row order; the hex makes it independent of the client's type conversions.
 */
export function bucketChecksums(table: TableSpec, range: BucketRange): Statement {
  const digest = `MD5(CONCAT_WS('|', ${verifiedColumns(table)
    .map((c) => `IFNULL(HEX(${quote(c)}), '-')`)
    .join(', ')}))`;
  const half = (start: number) => `CAST(BIT_XOR(CAST(CONV(SUBSTRING(h, ${start}, 16), 16, 10) AS UNSIGNED)) AS CHAR)`;
  return {
    sql: `SELECT bucket, COUNT(*) AS row_count, ${half(1)} AS hi, ${half(17)} AS lo
          FROM (SELECT ${bucketOf(quote(table.orderIdColumn))} AS bucket, ${digest} AS h FROM ${quote(table.name)} WHERE ${inRange(table, range)}) AS r
          GROUP BY bucket ORDER BY bucket`,
  };
}

/** Rows per bucket of a whole table (the orphan check). */
export function rowsPerBucket(table: TableSpec): Statement {
  return {
    sql: `SELECT ${bucketOf(quote(table.orderIdColumn))} AS bucket, COUNT(*) AS row_count, CAST(MIN(${quote(table.orderIdColumn)}) AS CHAR) AS sample
          FROM ${quote(table.name)} GROUP BY bucket ORDER BY bucket`,
  };
}

/** The prefix of every trigger a move creates, so any left behind can be found by name. */
export const TRIGGER_PREFIX = 'orderflow_move_';

const TRIGGER_EVENTS = [
  { event: 'INSERT', suffix: 'i', rows: ['NEW'] },
  { event: 'UPDATE', suffix: 'u', rows: ['OLD', 'NEW'] },
  { event: 'DELETE', suffix: 'd', rows: ['OLD'] },
] as const;

export const triggerName = (moveId: number, table: TableSpec, suffix: string) => `${TRIGGER_PREFIX}${moveId}_${table.name}_${suffix}`.slice(0, 64);

/**
 * The source's triggers of a move: after every insert, update and delete of a moving row, its order id
 * (the old and the new one on an update) goes to `shard_changes`, in the writer's own transaction.
 */
export function createTriggers(moveId: number, table: TableSpec, range: BucketRange): Statement[] {
  return TRIGGER_EVENTS.map(({ event, suffix, rows }) => {
    const body = rows
      .map((row) => {
        const id = `${row}.${quote(table.orderIdColumn)}`;
        return `IF ${bucketOf(id)} BETWEEN ${range.first} AND ${range.last} THEN INSERT INTO shard_changes (order_id) VALUES (${id}); END IF;`;
      })
      .join(' ');
    return {
      sql: `CREATE TRIGGER IF NOT EXISTS ${quote(triggerName(moveId, table, suffix))} AFTER ${event} ON ${quote(table.name)} FOR EACH ROW BEGIN ${body} END`,
    };
  });
}
