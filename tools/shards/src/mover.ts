import type mysql from 'mysql2/promise';
import { bucketsOf, formatRange, holdersOf, withBucketsOn } from './map-math';
import { MoveData } from './move-data';
import {
  FINISHED,
  MoveTable,
  type BucketMismatch,
  type MoveProgress,
  type MoveRecord,
  type MoveState,
  type PhaseRecord,
  type TableProgress,
} from './move-record';
import { MoveRefusedError, type MapWatcher, type ShardSet } from './shard-set';
import type { BucketRange } from './sql';

/** What a move reports as it goes (the terminal and the metrics listen). */
export type MoveEvent =
  | { kind: 'state'; move: MoveRecord }
  | { kind: 'copy'; move: MoveRecord; table: string }
  | { kind: 'catch-up'; move: MoveRecord; applied: number; backlog: number }
  | { kind: 'fenced'; move: MoveRecord; fencedMs: number }
  | { kind: 'verify'; move: MoveRecord; mismatches: BucketMismatch[]; rows: number }
  | { kind: 'drain'; move: MoveRecord; behind: MapWatcher[] }
  | { kind: 'log'; message: string };

export interface MoveOptions {
  range: BucketRange;
  target: number;
  /** Rows per copy batch and per DELETE of a cleanup (default 500). */
  batch?: number;
  /** The fence's lease: how long the switch may keep the buckets' writes waiting (default 2,000 ms). */
  fenceMs?: number;
  /** How long the source rows stay after the switch (default 60 s). */
  soakMs?: number;
  /** A watcher seen within this window must hold the new map before the move goes on (default 5 s). */
  drainWindowMs?: number;
  /** Switch rounds (verify mismatch, lease run out) this run tries before it stops (default 3). */
  maxFailedRounds?: number;
  /** Stops the run between two steps (Ctrl-C); the move stays where it is, to be resumed or aborted. */
  signal?: AbortSignal;
}

/** A switch that did not happen, with the figures (printed by the command, which exits non-zero). */
export class MoveStoppedError extends Error {
  constructor(
    message: string,
    readonly mismatches: BucketMismatch[] = [],
  ) {
    super(message);
    this.name = 'MoveStoppedError';
  }
}

export class MoveInterruptedError extends Error {
  constructor() {
    super('interrupted: the move stays where it is (run the same command again to resume, or abort it)');
    this.name = 'MoveInterruptedError';
  }
}

class LeaseLapsed extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long the fence waits for the writers already past it (InnoDB's lock wait, whole seconds). */
const FENCE_LOCK_WAIT_SECONDS = 1;
/** A backlog this small is left to the final catch-up under the fence. */
const CAUGHT_UP_BACKLOG = 200;
const DEFAULTS = { batch: 500, fenceMs: 2_000, soakMs: 60_000, drainWindowMs: 5_000, maxFailedRounds: 3 };

/**
 * Online bucket moves of one shard set (ADR 0009, "The move"): a state machine kept in `shard_moves` on
 * the set's shard 0, each step idempotent, so a run killed anywhere resumes where the table says.
 * copying -> catching-up -> switching -> switched -> soaking -> cleaning -> done, or aborted.
 */
export class BucketMover {
  private readonly moves: MoveTable;
  private readonly data: MoveData;

  constructor(
    private readonly set: ShardSet,
    private readonly onEvent: (event: MoveEvent) => void = () => undefined,
  ) {
    this.moves = new MoveTable(set.control);
    this.data = new MoveData(set, (message) => this.log(message));
  }

  active(): Promise<MoveRecord | undefined> {
    return this.moves.active();
  }

  /** Starts the move, or resumes the active one when it is the same; returns it done. */
  async move(options: MoveOptions): Promise<MoveRecord> {
    const o = { ...DEFAULTS, ...options };
    if (!Number.isInteger(o.batch) || o.batch < 1) throw new MoveRefusedError('--batch must be a positive integer');
    const { first, last } = o.range;
    if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || first > last || last > 1023) {
      throw new MoveRefusedError(`buckets ${first}-${last} are not a range of buckets 0..1023`);
    }
    this.set.pool(o.target); // refuses a target outside the list
    return this.withLock(async () => {
      let move = await this.moves.active();
      if (move && (move.range.first !== o.range.first || move.range.last !== o.range.last || move.target !== o.target)) {
        throw new MoveRefusedError(
          `another move of the ${this.set.name} set is active: #${move.id}, buckets ${formatRange(move.range)} ` +
            `from shard ${move.source} to ${move.target}, ${move.state}. ` +
            `Finish it (run it again: npm run shards -- move --set ${this.set.name} --buckets ${formatRange(move.range)} --to ${move.target}) ` +
            `or abort it (npm run shards -- abort --set ${this.set.name})`,
        );
      }
      if (move) this.log(`resuming move #${move.id} (buckets ${formatRange(move.range)}, shard ${move.source} -> ${move.target}) at "${move.state}"`);
      else move = await this.begin(o);
      // A resumed run keeps the settings it is given now (a smaller batch, a longer lease).
      Object.assign(move.progress, { batch: o.batch, fenceMs: o.fenceMs, soakMs: o.soakMs, failedRounds: 0 });
      this.emit({ kind: 'state', move });
      await this.run(move, o);
      return move;
    });
  }

  /** Undoes an active move that has not switched: triggers, fence, copies and changes, as before it. */
  async abort(): Promise<MoveRecord> {
    return this.withLock(async () => {
      const move = await this.moves.active();
      if (!move) throw new MoveRefusedError(`no active move in the ${this.set.name} set to abort`);
      const back = `npm run shards -- move --set ${this.set.name} --buckets ${formatRange(move.range)} --to ${move.source}`;
      if (['switched', 'soaking', 'cleaning'].includes(move.state) || (move.state === 'switching' && (await this.sourceMoved(move)))) {
        throw new MoveRefusedError(
          `move #${move.id} has switched (state ${move.state}): buckets ${formatRange(move.range)} ` +
            `are written on shard ${move.target} now and cannot be aborted. ` +
            `Let it finish (npm run shards -- move --set ${this.set.name} --buckets ${formatRange(move.range)} --to ${move.target}), ` +
            `then the way back is a move to the old shard: ${back}`,
        );
      }
      await this.data.dropTriggers(move.source);
      await this.unfence(move);
      await this.data.deleteRange(move.target, move.range, move.progress.batch);
      await this.data.emptyChanges(move.source);
      move.progress.phases.push({ phase: 'aborted', startedAt: Date.now(), endedAt: Date.now() });
      await this.moves.save(move, 'aborted');
      this.emit({ kind: 'state', move });
      return move;
    });
  }

  /** Row count and checksum per table per bucket, source against target. */
  verify(move: Pick<MoveRecord, 'range' | 'source' | 'target'>): Promise<{ mismatches: BucketMismatch[]; rows: number }> {
    return this.data.verify(move);
  }

  // -- the steps ---------------------------------------------------------------------------------------

  private async begin(o: Required<Omit<MoveOptions, 'signal'>>): Promise<MoveRecord> {
    const { map } = await this.set.readMap();
    const holders = holdersOf(map, o.range);
    if (holders.size > 1) {
      const list = [...holders].map(([shard, runs]) => `${runs.map(formatRange).join(',')} on shard ${shard}`).join('; ');
      throw new MoveRefusedError(`buckets ${formatRange(o.range)} live on more than one shard (${list}): move each part on its own`);
    }
    const source = [...holders.keys()][0] as number;
    if (source === o.target) throw new MoveRefusedError(`shard ${o.target} already owns buckets ${formatRange(o.range)}: nothing to move`);
    for (const shard of [source, o.target]) {
      const missing = await this.set.missingTables(shard);
      if (missing.length > 0) {
        throw new MoveRefusedError(
          `shard ${this.set.label(shard)} lacks ${missing.join(', ')}: ` +
            `list it in the services' configuration and start them once (they migrate every listed shard)`,
        );
      }
    }
    const owned = await this.set
      .pool(source)
      .select<{ n: string }>(
        `SELECT COUNT(*) AS n FROM shard_buckets WHERE bucket BETWEEN ? AND ? AND (state = 'OWNED' OR (state = 'FENCED' AND fenced_until < NOW(3)))`,
        [o.range.first, o.range.last],
      );
    const count = o.range.last - o.range.first + 1;
    if (Number(owned[0]?.n) !== count) {
      throw new MoveRefusedError(
        `shard ${source} holds ${owned[0]?.n ?? 0} of the ${count} buckets ${formatRange(o.range)} in shard_buckets although the map names it: ` +
          `its owners were never written (start the services once), or another move left them`,
      );
    }
    const [held] = await this.set
      .pool(o.target)
      .select<{ n: string }>(`SELECT COUNT(*) AS n FROM shard_buckets WHERE bucket BETWEEN ? AND ? AND state IN ('OWNED', 'FENCED')`, [
        o.range.first,
        o.range.last,
      ]);
    if (Number(held?.n) > 0) {
      throw new MoveRefusedError(
        `shard ${o.target} already holds ${held?.n} of buckets ${formatRange(o.range)} in its shard_buckets ` +
          `although the map gives them to shard ${source}: the shards disagree with the map, nothing is moved`,
      );
    }
    const progress: MoveProgress = {
      batch: o.batch,
      fenceMs: o.fenceMs,
      soakMs: o.soakMs,
      prepared: false,
      tables: {},
      changesApplied: 0,
      failedRounds: 0,
      phases: [],
    };
    const move = await this.moves.create(o.range, source, o.target, progress);
    this.log(`move #${move.id}: buckets ${formatRange(o.range)} of the ${this.set.name} set, shard ${this.set.label(source)} -> ${this.set.label(o.target)}`);
    return move;
  }

  private async run(move: MoveRecord, o: typeof DEFAULTS & MoveOptions): Promise<void> {
    while (!FINISHED.includes(move.state)) {
      if (o.signal?.aborted) throw new MoveInterruptedError();
      const phase: PhaseRecord = { phase: move.state, startedAt: Date.now() };
      move.progress.phases.push(phase);
      const next = await this.step(move, phase, o);
      phase.endedAt = Date.now();
      await this.moves.save(move, next);
      this.emit({ kind: 'state', move });
    }
  }

  private async step(move: MoveRecord, phase: PhaseRecord, o: typeof DEFAULTS & MoveOptions): Promise<MoveState> {
    switch (move.state) {
      case 'copying':
        await this.copy(move, phase, o);
        return 'catching-up';
      case 'catching-up':
        await this.catchUp(move, phase, o);
        return 'switching';
      case 'switching':
        return this.switchOver(move, phase, o);
      case 'switched':
        await this.drain(move, o);
        move.progress.soakFrom = Date.now();
        move.progress.soakUntil = move.progress.soakFrom + o.soakMs;
        return 'soaking';
      case 'soaking':
        // A resumed run soaks for its own --soak from when the soak began (--soak 0 ends it now).
        move.progress.soakUntil = (move.progress.soakFrom ?? Date.now()) + o.soakMs;
        while (Date.now() < (move.progress.soakUntil ?? 0)) {
          if (o.signal?.aborted) throw new MoveInterruptedError();
          await sleep(Math.min(250, (move.progress.soakUntil ?? 0) - Date.now()));
        }
        return 'cleaning';
      case 'cleaning':
        phase.rows = await this.cleanUp(move);
        return 'done';
      default:
        throw new Error(`move #${move.id} is in an unknown state "${move.state}"`);
    }
  }

  /** copying: clear the target's old copies, set the triggers, then copy each table in key order. */
  private async copy(move: MoveRecord, phase: PhaseRecord, o: typeof DEFAULTS & MoveOptions): Promise<void> {
    const p = move.progress;
    if (!p.prepared) {
      await this.data.deleteRange(move.target, move.range, p.batch);
      await this.data.emptyChanges(move.source);
      // Each CREATE TRIGGER waits for the writers already in the table (its metadata lock): every write
      // after the last one fires a trigger, every write before it is committed and seen by the copy.
      await this.data.createTriggers(move);
      for (const table of this.set.tables) p.tables[table.name] = { copied: 0, total: await this.data.countRows(move, table), done: false };
      p.prepared = true;
      await this.moves.save(move);
    }
    let copiedNow = 0;
    for (const table of this.set.tables) {
      const t = p.tables[table.name] as TableProgress;
      while (!t.done) {
        if (o.signal?.aborted) throw new MoveInterruptedError();
        copiedNow += await this.data.copyBatch(move, table, t);
        await this.moves.save(move);
        this.emit({ kind: 'copy', move, table: table.name });
      }
    }
    phase.rows = copiedNow;
  }

  /**
   * catching-up: apply the changes the triggers recorded until the backlog is small (what is left is
   * applied under the fence), or stops shrinking (writers outpace the rounds: the fence stops them).
   */
  private async catchUp(move: MoveRecord, phase: PhaseRecord, o: typeof DEFAULTS & MoveOptions): Promise<void> {
    let applied = 0;
    let best = Infinity;
    let stalled = 0;
    for (;;) {
      if (o.signal?.aborted) throw new MoveInterruptedError();
      const round = await this.data.applyChanges(move);
      applied += round.changes;
      const backlog = await this.data.backlog(move);
      this.emit({ kind: 'catch-up', move, applied: move.progress.changesApplied, backlog });
      if (backlog <= CAUGHT_UP_BACKLOG) break;
      if (backlog < best) {
        best = backlog;
        stalled = 0;
      } else if (++stalled >= 5) break;
    }
    phase.changes = applied;
    await this.moves.save(move);
  }

  /**
   * switching: fence with a lease, apply the last changes, verify, then MOVED on the source (only where
   * the lease holds), OWNED on the target at V+1, the map to V+1 (compare-and-set). A mismatch or a lapsed
   * lease unfences and goes back to catching-up; after `maxFailedRounds` the run stops with the figures.
   */
  private async switchOver(move: MoveRecord, phase: PhaseRecord, o: typeof DEFAULTS & MoveOptions): Promise<MoveState> {
    const p = move.progress;
    const source = this.set.pool(move.source);
    const count = move.range.last - move.range.first + 1;
    if (!(await this.sourceMoved(move))) {
      const stored = await this.set.readMap();
      p.fromVersion = stored.version;
      p.toSpec = withBucketsOn(stored.map, move.range, move.target).toString();
      await this.moves.save(move);
      const fencedAt = Date.now();
      const fenced = await this.fence(move);
      let failure: string | undefined;
      let mismatches: BucketMismatch[] = [];
      if (fenced === 'busy') {
        failure =
          `a writer held one of buckets ${formatRange(move.range)} for over ${FENCE_LOCK_WAIT_SECONDS} s: ` +
          `the fence could not be taken without holding up every write to them`;
      } else if (fenced !== count) {
        await this.unfence(move);
        throw new MoveStoppedError(
          `the source shard ${move.source} does not hold all of buckets ${formatRange(move.range)} any more (fenced ${fenced} of ${count})`,
        );
      } else {
        // No write to the buckets can commit on the source now: the last changes, then the proof.
        let changes = 0;
        for (;;) {
          const round = await this.data.applyChanges(move);
          if (round.changes === 0) break;
          changes += round.changes;
        }
        phase.changes = changes;
        const verified = await this.data.verify(move);
        mismatches = verified.mismatches;
        phase.rows = verified.rows;
        p.lastMismatches = mismatches;
        this.emit({ kind: 'verify', move, mismatches, rows: verified.rows });
        if (mismatches.length > 0) {
          failure = `verify found ${mismatches.length} mismatching bucket(s) between shard ${move.source} and shard ${move.target}`;
          phase.verify = `MISMATCH (${mismatches.length})`;
        } else {
          phase.verify = `ok (${verified.rows} rows)`;
          const committed = await source
            .transaction(async (tx) => {
              const [moved] = await tx.run([
                {
                  sql: `UPDATE shard_buckets SET state = 'MOVED', epoch = ?, fenced_until = NULL, updated_at = NOW(3)
                        WHERE bucket BETWEEN ? AND ? AND state = 'FENCED' AND fenced_until > NOW(3)`,
                  values: [(p.fromVersion as number) + 1, move.range.first, move.range.last],
                },
              ]);
              // All or none: a bucket whose lease ran out may have taken a write since the final catch-up.
              if ((moved as { affectedRows: number }).affectedRows !== count) throw new LeaseLapsed();
              return true;
            })
            .catch((error: unknown) => {
              if (error instanceof LeaseLapsed) return false;
              throw error;
            });
          if (!committed)
            failure =
              `the fence's lease (--fence-ms ${p.fenceMs}) ran out before the switch (${Date.now() - fencedAt} ms fenced): ` +
              `move fewer buckets, or give a longer lease`;
        }
      }
      if (failure) {
        await this.unfence(move);
        p.failedRounds += 1;
        phase.fencedMs = Date.now() - fencedAt;
        this.log(`switch round failed, buckets unfenced after ${phase.fencedMs} ms: ${failure}`);
        if (p.failedRounds >= o.maxFailedRounds) {
          await this.moves.save(move, 'catching-up', failure);
          throw new MoveStoppedError(
            `${failure}; ${p.failedRounds} rounds failed, the move stops (map unchanged). Run it again to retry, or abort it.`,
            mismatches,
          );
        }
        return 'catching-up';
      }
      p.fencedMs = Date.now() - fencedAt;
      await this.moves.save(move);
    }
    await this.finishSwitch(move);
    phase.fencedMs = p.fencedMs;
    this.emit({ kind: 'fenced', move, fencedMs: p.fencedMs ?? 0 });
    return 'switched';
  }

  /**
   * Fences the buckets on the source with a lease; returns how many it fenced, or 'busy'. The UPDATE waits
   * for the writers that passed the fence to commit, and while it waits every new writer of the buckets
   * queues behind it: so it waits at most FENCE_LOCK_WAIT_SECONDS (a stuck writer costs a failed round,
   * not a stall of every write to the buckets).
   */
  private async fence(move: MoveRecord): Promise<number | 'busy'> {
    const connection = await this.data.connect(move.source);
    try {
      await connection.query(`SET SESSION innodb_lock_wait_timeout = ${FENCE_LOCK_WAIT_SECONDS}`);
      await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
      const [result] = await connection.query<mysql.ResultSetHeader>(
        `UPDATE shard_buckets SET state = 'FENCED', fenced_until = NOW(3) + INTERVAL ? MICROSECOND, updated_at = NOW(3)
         WHERE bucket BETWEEN ? AND ? AND state IN ('OWNED', 'FENCED')`,
        [move.progress.fenceMs * 1000, move.range.first, move.range.last],
      );
      return result.affectedRows;
    } catch (error) {
      if ((error as { code?: string }).code === 'ER_LOCK_WAIT_TIMEOUT') return 'busy';
      throw error;
    } finally {
      await connection.end().catch(() => connection.destroy());
    }
  }

  /** After the source's MOVED: the target owns the buckets at V+1, then the map says so (idempotent). */
  private async finishSwitch(move: MoveRecord): Promise<void> {
    const p = move.progress;
    const version = (p.fromVersion as number) + 1;
    const buckets = bucketsOf(move.range);
    await this.set.pool(move.target).run([
      {
        sql: `INSERT INTO shard_buckets (bucket, epoch, state, fenced_until, updated_at) VALUES ${buckets.map(() => "(?, ?, 'OWNED', NULL, NOW(3))").join(', ')}
              ON DUPLICATE KEY UPDATE epoch = VALUES(epoch), state = 'OWNED', fenced_until = NULL, updated_at = NOW(3)`,
        values: buckets.flatMap((bucket) => [bucket, version]),
      },
    ]);
    const [result] = await this.set.control.run([
      { sql: 'UPDATE shard_map SET version = ?, spec = ?, updated_at = NOW(3) WHERE id = 1 AND version = ?', values: [version, p.toSpec, p.fromVersion] },
    ]);
    if ((result as { affectedRows: number }).affectedRows !== 1) {
      const now = await this.set.readMap();
      if (now.version !== version || now.map.toString() !== p.toSpec) {
        throw new MoveStoppedError(`the map changed under the switch: expected version ${p.fromVersion}, found ${now.version} (${now.map.toString()})`);
      }
    }
    if (p.fencedMs === undefined) p.fencedMs = 0;
    this.log(`switched: map version ${version}, buckets ${formatRange(move.range)} on shard ${move.target} (writes fenced for ${p.fencedMs} ms)`);
  }

  /** switched: wait until every process seen in the drain window holds the new map. */
  private async drain(move: MoveRecord, o: typeof DEFAULTS & MoveOptions): Promise<void> {
    const version = (move.progress.fromVersion as number) + 1;
    let lastReport = 0;
    for (;;) {
      if (o.signal?.aborted) throw new MoveInterruptedError();
      const behind = (await this.set.watchers()).filter((w) => w.seenAgoMs <= o.drainWindowMs && w.version < version);
      if (behind.length === 0) return;
      if (Date.now() - lastReport >= 2_000) {
        lastReport = Date.now();
        this.emit({ kind: 'drain', move, behind });
      }
      await sleep(200);
    }
  }

  /** cleaning: triggers dropped, the source's rows of the moved buckets deleted in batches, changes emptied. */
  private async cleanUp(move: MoveRecord): Promise<number> {
    await this.data.dropTriggers(move.source);
    const deleted = await this.data.deleteRange(move.source, move.range, move.progress.batch);
    await this.data.emptyChanges(move.source);
    this.log(`cleaned up: ${deleted} rows of buckets ${formatRange(move.range)} deleted on shard ${move.source}`);
    return deleted;
  }

  // -- helpers -------------------------------------------------------------------------------------------

  private async sourceMoved(move: MoveRecord): Promise<boolean> {
    if (move.progress.fromVersion === undefined) return false;
    const [row] = await this.set
      .pool(move.source)
      .select<{ n: string }>(`SELECT COUNT(*) AS n FROM shard_buckets WHERE bucket BETWEEN ? AND ? AND state = 'MOVED' AND epoch = ?`, [
        move.range.first,
        move.range.last,
        move.progress.fromVersion + 1,
      ]);
    return Number(row?.n) === move.range.last - move.range.first + 1;
  }

  private async unfence(move: MoveRecord): Promise<void> {
    await this.set.pool(move.source).run([
      // READ COMMITTED: rows that are not FENCED are passed over without waiting for a writer's lock on them.
      { sql: 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED' },
      {
        sql: `UPDATE shard_buckets SET state = 'OWNED', fenced_until = NULL, updated_at = NOW(3) WHERE bucket BETWEEN ? AND ? AND state = 'FENCED'`,
        values: [move.range.first, move.range.last],
      },
    ]);
  }

  /**
   * One mover per set at a time: a named lock on shard 0, held on a connection of its own for the whole
   * run (a mover killed with -9 drops it with its connection).
   */
  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    const connection = await this.data.connect(0);
    const name = `orderflow.shards.${this.set.targets[0]?.database ?? ''}`.slice(0, 64);
    try {
      const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS acquired', [name]);
      if (Number(rows[0]?.acquired) !== 1) {
        throw new MoveRefusedError(
          `another npm run shards process is moving or aborting in the ${this.set.name} set now (it holds "${name}"): stop it first (Ctrl-C)`,
        );
      }
      return await work();
    } finally {
      await this.data.close();
      await connection.end().catch(() => connection.destroy());
    }
  }

  private emit(event: MoveEvent): void {
    this.onEvent(event);
  }

  private log(message: string): void {
    this.emit({ kind: 'log', message });
  }
}
