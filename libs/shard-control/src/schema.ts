import type { Migration } from '@orderflow/database';

/** The message every fence rejection starts with (the SIGNAL in `orderflow_fence`). */
export const FENCE_MESSAGE = 'orderflow fence';

/**
 * The tables and the procedure of online bucket moves (ADR 0009), the same on every shard of a set (order
 * shards, read shards):
 * - `shard_buckets`: the buckets this shard holds, the map version it got each one at (`epoch`), and
 *   whether it takes writes: OWNED, FENCED (a move is switching it; until `fenced_until`, after which the
 *   fence lapses and the bucket is OWNED again) or MOVED (gone, at `epoch`).
 * - `orderflow_fence(bucket, epoch)`: called first in every write transaction routed by bucket. It reads
 *   the bucket's row with a shared lock, held to the end of the writer's transaction, and SIGNALs unless
 *   the shard owns the bucket at that map version. A move's exclusive update of the row waits for the
 *   writers that passed; writers that come after it see its state.
 * - `shard_changes`: the order ids a running move's triggers saw written (its catch-up reads them).
 * - `shard_map`, `shard_map_watchers`, `shard_moves`: the control tables; only shard 0's are used. The
 *   map (one row, its version and spec), every live process's latest version seen (a move's drain waits
 *   for them), and each move's resumable state.
 */
export function shardControlMigration(name: string): Migration {
  return {
    name,
    async up(qi) {
      const sql = (statement: string) => qi.sequelize.query(statement);
      await sql(`
        CREATE TABLE shard_buckets (
          bucket SMALLINT UNSIGNED NOT NULL PRIMARY KEY,
          epoch BIGINT UNSIGNED NOT NULL,
          state VARCHAR(8) NOT NULL,
          fenced_until DATETIME(3) NULL,
          updated_at DATETIME(3) NOT NULL
        ) ENGINE=InnoDB`);
      await sql(`
        CREATE PROCEDURE orderflow_fence(IN p_bucket SMALLINT UNSIGNED, IN p_epoch BIGINT UNSIGNED)
        BEGIN
          DECLARE writable INT DEFAULT 0;
          SELECT COUNT(*) INTO writable FROM shard_buckets
            WHERE bucket = p_bucket AND epoch <= p_epoch
              AND (state = 'OWNED' OR (state = 'FENCED' AND fenced_until < NOW(3)))
            LOCK IN SHARE MODE;
          IF writable = 0 THEN
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${FENCE_MESSAGE}: bucket not writable here at this map version';
          END IF;
        END`);
      await sql(`
        CREATE TABLE shard_changes (
          seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
          order_id BIGINT UNSIGNED NOT NULL
        ) ENGINE=InnoDB`);
      await sql(`
        CREATE TABLE shard_map (
          id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
          version BIGINT UNSIGNED NOT NULL,
          spec TEXT NOT NULL,
          updated_at DATETIME(3) NOT NULL
        ) ENGINE=InnoDB`);
      await sql(`
        CREATE TABLE shard_map_watchers (
          instance VARCHAR(128) NOT NULL PRIMARY KEY,
          version BIGINT UNSIGNED NOT NULL,
          seen_at DATETIME(3) NOT NULL
        ) ENGINE=InnoDB`);
      await sql(`
        CREATE TABLE shard_moves (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
          first_bucket SMALLINT UNSIGNED NOT NULL,
          last_bucket SMALLINT UNSIGNED NOT NULL,
          source SMALLINT UNSIGNED NOT NULL,
          target SMALLINT UNSIGNED NOT NULL,
          state VARCHAR(16) NOT NULL,
          -- JSON: copy cursors and counts, catch-up and verify figures (the mover's own format)
          progress MEDIUMTEXT NOT NULL,
          error TEXT NULL,
          created_at DATETIME(3) NOT NULL,
          updated_at DATETIME(3) NOT NULL,
          KEY shard_moves_state (state)
        ) ENGINE=InnoDB`);
    },
    async down(qi) {
      await qi.sequelize.query('DROP PROCEDURE IF EXISTS orderflow_fence');
      for (const table of ['shard_moves', 'shard_map_watchers', 'shard_map', 'shard_changes', 'shard_buckets']) await qi.dropTable(table);
    },
  };
}

/** The message of orderflow_fence_many's refusal of a list that is not a JSON array of bucket numbers (a caller's bug, not a fence). */
export const FENCE_LIST_MESSAGE = 'orderflow_fence_many: expects a JSON array of bucket numbers';

/**
 * `orderflow_fence_many(buckets, epoch)`: `orderflow_fence` over a list of buckets in ONE statement, for a
 * transaction that writes several buckets (a projection batch). `buckets` is a JSON array of bucket numbers
 * (repeats allowed). It reads each listed bucket's row by primary key with a shared lock, held to the end of
 * the writer's transaction (the rows `orderflow_fence` would lock, called once per bucket, and no other), and
 * SIGNALs the fence's refusal unless the shard owns every one of them at that map version. An empty or
 * malformed list is refused with FENCE_LIST_MESSAGE, never let through. A migration of its own: shards
 * migrated before it get it as their next migration.
 */
export function fenceManyMigration(name: string): Migration {
  return {
    name,
    async up(qi) {
      await qi.sequelize.query(`
        CREATE PROCEDURE orderflow_fence_many(IN p_buckets TEXT, IN p_epoch BIGINT UNSIGNED)
        BEGIN
          DECLARE listed INT DEFAULT 0;
          DECLARE malformed INT DEFAULT 0;
          DECLARE wanted INT DEFAULT 0;
          DECLARE writable INT DEFAULT 0;
          -- JSON_TABLE is read first, then each bucket's row by primary key (eq_ref): only the listed rows are locked.
          SELECT COUNT(*), COUNT(DISTINCT jt.bucket), IFNULL(SUM(jt.raw IS NULL OR jt.raw <> CAST(jt.bucket AS CHAR)), 0),
                 COUNT(DISTINCT IF(sb.epoch <= p_epoch AND (sb.state = 'OWNED' OR (sb.state = 'FENCED' AND sb.fenced_until < NOW(3))), sb.bucket, NULL))
            INTO listed, wanted, malformed, writable
            FROM JSON_TABLE(p_buckets, '$[*]' COLUMNS (bucket SMALLINT UNSIGNED PATH '$', raw VARCHAR(32) PATH '$')) jt
            LEFT JOIN shard_buckets sb ON sb.bucket = jt.bucket
            LOCK IN SHARE MODE;
          -- A value the integer column had to coerce (a string, a fraction, a negative, null) differs from its text.
          IF listed = 0 OR malformed > 0 THEN
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${FENCE_LIST_MESSAGE}';
          END IF;
          IF writable < wanted THEN
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${FENCE_MESSAGE}: bucket not writable here at this map version';
          END IF;
        END`);
    },
    async down(qi) {
      await qi.sequelize.query('DROP PROCEDURE IF EXISTS orderflow_fence_many');
    },
  };
}

/**
 * A SQL condition that keeps the rows of buckets this shard holds (OWNED or FENCED), for scans that walk a
 * whole shard (relay, sweepers, purgers): the copies a move is writing to its target, and the source rows
 * left behind after a switch, are not theirs.
 */
export const heldBucketCondition = (orderIdColumn: string) =>
  `((${orderIdColumn} >> 12) & 1023) IN (SELECT bucket FROM shard_buckets WHERE state IN ('OWNED', 'FENCED'))`;
