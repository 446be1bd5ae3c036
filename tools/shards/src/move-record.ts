import type { SqlPool } from '@orderflow/database';
import { MoveRefusedError } from './shard-set';
import type { BucketRange } from './sql';

/** A move's states, in order (ADR 0009); `aborted` ends a move before its switch. */
export const MOVE_STATES = ['copying', 'catching-up', 'switching', 'switched', 'soaking', 'cleaning', 'done', 'aborted'] as const;
export type MoveState = (typeof MOVE_STATES)[number];
export const FINISHED: readonly MoveState[] = ['done', 'aborted'];

export interface TableProgress {
  /** The primary key of the last row copied (undefined: none yet). */
  cursor?: unknown[];
  copied: number;
  /** The moving rows counted when the copy started (an estimate: writes go on). */
  total: number;
  done: boolean;
}

/** One phase of a run, for the closing table (a resumed move adds more). */
export interface PhaseRecord {
  phase: MoveState;
  startedAt: number;
  endedAt?: number;
  rows?: number;
  changes?: number;
  fencedMs?: number;
  verify?: string;
}

/** A bucket whose rows differ between source and target in one table. */
export interface BucketMismatch {
  table: string;
  bucket: number;
  source: { rows: number; checksum: string };
  target: { rows: number; checksum: string };
}

/** The mover's own JSON in `shard_moves.progress`. */
export interface MoveProgress {
  batch: number;
  fenceMs: number;
  soakMs: number;
  /** Target cleared of old copies, stale changes emptied, triggers created. */
  prepared: boolean;
  tables: Record<string, TableProgress>;
  changesApplied: number;
  /** Switch rounds that did not switch (a mismatch, or a lease that ran out); three in one run stop it. */
  failedRounds: number;
  lastMismatches?: BucketMismatch[];
  /** The map version the switch started from, and the spec it writes as version + 1. */
  fromVersion?: number;
  toSpec?: string;
  fencedMs?: number;
  /** When the soak began, and when it ends (epoch ms). */
  soakFrom?: number;
  soakUntil?: number;
  phases: PhaseRecord[];
}

export interface MoveRecord {
  id: number;
  range: BucketRange;
  source: number;
  target: number;
  state: MoveState;
  progress: MoveProgress;
  error?: string;
  createdAt: Date;
  updatedAt: Date;
}

interface MoveRow {
  id: string;
  first_bucket: number;
  last_bucket: number;
  source: number;
  target: number;
  state: string;
  progress: string;
  error: string | null;
  created_at: Date;
  updated_at: Date;
}

const toRecord = (row: MoveRow): MoveRecord => ({
  id: Number(row.id),
  range: { first: Number(row.first_bucket), last: Number(row.last_bucket) },
  source: Number(row.source),
  target: Number(row.target),
  state: row.state as MoveState,
  progress: JSON.parse(row.progress) as MoveProgress,
  error: row.error ?? undefined,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** The set's moves in `shard_moves` on its shard 0. */
export class MoveTable {
  constructor(private readonly control: SqlPool) {}

  async active(): Promise<MoveRecord | undefined> {
    const rows = await this.control.select<MoveRow>(`SELECT * FROM shard_moves WHERE state NOT IN ('done', 'aborted') ORDER BY id`);
    return rows[0] && toRecord(rows[0]);
  }

  async latest(): Promise<MoveRecord | undefined> {
    const rows = await this.control.select<MoveRow>('SELECT * FROM shard_moves ORDER BY id DESC LIMIT 1');
    return rows[0] && toRecord(rows[0]);
  }

  async get(id: number): Promise<MoveRecord> {
    const rows = await this.control.select<MoveRow>('SELECT * FROM shard_moves WHERE id = ?', [id]);
    if (!rows[0]) throw new Error(`move ${id} is gone from shard_moves`);
    return toRecord(rows[0]);
  }

  async create(range: BucketRange, source: number, target: number, progress: MoveProgress): Promise<MoveRecord> {
    const [result] = await this.control.run([
      {
        sql: `INSERT INTO shard_moves (first_bucket, last_bucket, source, target, state, progress, created_at, updated_at)
              VALUES (?, ?, ?, ?, 'copying', ?, NOW(3), NOW(3))`,
        values: [range.first, range.last, source, target, JSON.stringify(progress)],
      },
    ]);
    return this.get((result as { insertId: number }).insertId);
  }

  /**
   * Saves the move's state and progress, only if its state is still the one this process holds: a move
   * aborted (or finished) by another command stops this one at its next save.
   */
  async save(move: MoveRecord, state: MoveState = move.state, error: string | null = null): Promise<void> {
    const [result] = await this.control.run([
      {
        sql: 'UPDATE shard_moves SET state = ?, progress = ?, error = ?, updated_at = NOW(3) WHERE id = ? AND state = ?',
        values: [state, JSON.stringify(move.progress), error, move.id, move.state],
      },
    ]);
    if ((result as { affectedRows: number }).affectedRows !== 1) {
      const now = await this.get(move.id);
      throw new MoveRefusedError(`move ${move.id} is now "${now.state}" (changed by another command): this run stops`);
    }
    move.state = state;
    move.error = error ?? undefined;
  }
}
