import { ConfigError } from '@orderflow/service-kit';
import { loadShardSets } from './config';
import { findOrphans, setStatus } from './inspect';
import { LatencyWatch, type WindowFigures } from './latency-watch';
import { formatRange, parseBucketRange } from './map-math';
import type { MoveRecord } from './move-record';
import { BucketMover, MoveInterruptedError, MoveStoppedError, type MoveEvent } from './mover';
import { MoverMetrics } from './mover-metrics';
import { planMoves } from './plan';
import { MoveRefusedError, ShardSet } from './shard-set';
import { SHARD_SETS, type ShardSetName } from './tables';
import { formatDuration, formatPhases, formatTable, parseDuration, progressLine } from './terminal';

export const USAGE = `npm run shards -- <command> [options]

  status [--set orders|reads]      the live map (version, ranges, buckets and rows per shard), the processes
                                   watching it, and the active move with its progress
  plan [--set orders|reads]        the moves that even out the buckets over every configured shard
  move --buckets A-B --to S        moves buckets A..B (all on one shard now) to shard S, online:
       [--set orders|reads]        copying -> catching-up -> switching -> switched -> soaking -> cleaning -> done
       [--batch 500]               rows per copy batch (and per DELETE of the cleanup)
       [--fence-ms 2000]           the fence's lease: the longest the buckets' writes wait during the switch
       [--soak 60s]                how long the source keeps its rows after the switch
       [--watch URL]...            services' /metrics to report PlaceOrder orders/s and p99 before, during and
                                   after (default: order-command's dev endpoint, when it answers)
       [--metrics-port N]          serve the mover's own Prometheus gauges on this port
                                   Killed or stopped, the same command resumes where the move is.
  verify [--set orders|reads]      an active move's buckets, source against target (rows and checksums); and
                                   every row of every table on the shard that owns its bucket (orphans named)
  abort [--set orders|reads]       undoes the active move before its switch (after it: move the buckets back)

Shards come from ORDER_SHARDS / READ_SHARDS (with ORDER_MYSQL_USER/PASSWORD, READ_MYSQL_USER/PASSWORD), as
the services read them; the default set is orders.`;

const DEFAULT_WATCH = 'http://127.0.0.1:9451/metrics';
const WATCH_BEFORE_MS = 10_000;

export interface CliIo {
  /** A finished line. */
  out(line: string): void;
  /** The progress line; a terminal rewrites it in place, otherwise it is printed now and then. */
  progress?(line: string): void;
  env?: NodeJS.ProcessEnv;
  /** Ctrl-C: a move stops between two steps, resumable. */
  signal?: AbortSignal;
}

interface Args {
  command: string;
  options: Map<string, string[]>;
}

function parseArgs(argv: string[]): Args {
  const [command = 'help', ...rest] = argv;
  const options = new Map<string, string[]>();
  for (let i = 0; i < rest.length; i++) {
    const name = rest[i] as string;
    if (!name.startsWith('--')) throw new MoveRefusedError(`unexpected argument "${name}"\n\n${USAGE}`);
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('--')) throw new MoveRefusedError(`${name} needs a value`);
    options.set(name, [...(options.get(name) ?? []), value]);
    i += 1;
  }
  return { command, options };
}

const one = (args: Args, name: string) => args.options.get(name)?.at(-1);

function positiveInt(args: Args, name: string, fallback: number): number {
  const text = one(args, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new MoveRefusedError(`${name} must be a positive integer, got "${text}"`);
  return value;
}

function setsOf(args: Args, all: boolean): ShardSetName[] {
  const name = one(args, '--set');
  if (name === undefined) return all ? [...SHARD_SETS] : ['orders'];
  if (!(SHARD_SETS as readonly string[]).includes(name)) throw new MoveRefusedError(`--set must be one of ${SHARD_SETS.join(', ')}, got "${name}"`);
  return [name as ShardSetName];
}

/** Runs one command; returns the exit code (0 done, 1 failed or found problems, 2 refused, 130 interrupted). */
export async function shardsCli(argv: string[], io: CliIo): Promise<number> {
  const sets: ShardSet[] = [];
  try {
    const args = parseArgs(argv);
    const targets = loadShardSets(io.env ?? process.env);
    const open = (name: ShardSetName) => {
      const set = new ShardSet(name, targets[name]);
      sets.push(set);
      return set;
    };
    switch (args.command) {
      case 'status':
        for (const name of setsOf(args, true)) await status(open(name), io);
        return 0;
      case 'plan':
        for (const name of setsOf(args, true)) await plan(open(name), io);
        return 0;
      case 'verify': {
        let problems = 0;
        for (const name of setsOf(args, true)) problems += await verify(open(name), io);
        return problems > 0 ? 1 : 0;
      }
      case 'abort':
        return await abort(open(setsOf(args, false)[0] as ShardSetName), io);
      case 'move':
        return await move(open(setsOf(args, false)[0] as ShardSetName), args, io);
      case 'help':
      case '--help':
        io.out(USAGE);
        return 0;
      default:
        io.out(`unknown command "${args.command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof MoveRefusedError || error instanceof ConfigError) {
      io.out(`refused: ${error.message}`);
      return 2;
    }
    if (error instanceof MoveInterruptedError) {
      io.out(error.message);
      return 130;
    }
    if (error instanceof MoveStoppedError) {
      io.out(`stopped: ${error.message}`);
      if (error.mismatches.length > 0) io.out(formatMismatches(error.mismatches));
      return 1;
    }
    // A server that does not answer, a database that is not there: the message says it, a stack would not.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') {
      io.out(`failed (${code}): ${(error as Error).message}`);
      return 1;
    }
    throw error;
  } finally {
    await Promise.all(sets.map((s) => s.close()));
  }
}

async function status(set: ShardSet, io: CliIo): Promise<void> {
  const s = await setStatus(set);
  io.out(`\n${set.name} set: map version ${s.version}`);
  io.out(
    formatTable(
      ['shard', 'database', 'buckets', 'ranges', set.name === 'orders' ? 'orders' : 'order views', 'shard_buckets'],
      s.shards.map((r) => [
        String(r.shard),
        r.label.replace(/^\d+ \((.*)\)$/, '$1'),
        String(r.buckets),
        r.ranges,
        r.rows === undefined ? 'not migrated' : r.rows.toLocaleString('en-US'),
        Object.entries(r.states)
          .map(([state, n]) => `${n} ${state}`)
          .join(', ') || '-',
      ]),
    ),
  );
  io.out(`\nwatchers (processes routing by this map):`);
  if (s.watchers.length === 0) io.out('  none seen');
  else
    io.out(
      formatTable(
        ['instance', 'version', 'seen'],
        s.watchers.map((w) => [w.instance, String(w.version) + (w.version < s.version ? ' (behind)' : ''), `${formatDuration(w.seenAgoMs)} ago`]),
      ),
    );
  if (s.active) io.out(`\nactive move: ${describeMove(s.active)}`);
  else io.out(`\nno active move${s.latest ? ` (last: ${describeMove(s.latest)})` : ''}`);
}

function describeMove(move: MoveRecord): string {
  const p = move.progress;
  const copied = Object.values(p.tables).reduce((n, t) => n + t.copied, 0);
  const total = Object.values(p.tables).reduce((n, t) => n + t.total, 0);
  const parts = [
    `#${move.id} buckets ${formatRange(move.range)} shard ${move.source} -> ${move.target}: ${move.state} (since ${move.updatedAt.toISOString()})`,
    `copied ${copied.toLocaleString('en-US')}/${total.toLocaleString('en-US')} rows`,
    `${p.changesApplied.toLocaleString('en-US')} changes applied`,
  ];
  if (p.fencedMs !== undefined) parts.push(`fenced ${p.fencedMs} ms`);
  if (p.soakUntil !== undefined && move.state === 'soaking') parts.push(`soaks until ${new Date(p.soakUntil).toISOString()}`);
  if (move.error) parts.push(`last error: ${move.error}`);
  return parts.join('; ');
}

async function plan(set: ShardSet, io: CliIo): Promise<void> {
  const { version, map } = await set.readMap();
  const moves = planMoves(map);
  io.out(`\n${set.name} set (map version ${version}, ${set.pools.length} shards):`);
  if (moves.length === 0) {
    io.out('  already even: nothing to move');
    return;
  }
  for (const m of moves) io.out(`  npm run shards -- move --set ${set.name} --buckets ${formatRange(m.range)} --to ${m.to}   # from shard ${m.from}`);
}

async function verify(set: ShardSet, io: CliIo): Promise<number> {
  const mover = new BucketMover(set);
  const active = await mover.active();
  io.out(`\n${set.name} set:`);
  if (active) {
    const { mismatches, rows } = await mover.verify(active);
    io.out(`active move #${active.id} (${active.state}), buckets ${formatRange(active.range)}: ${rows} rows on shard ${active.source}`);
    if (mismatches.length === 0) io.out('  source and target agree in every table and bucket');
    else {
      const expected = ['copying', 'catching-up'].includes(active.state) ? ' (expected while the move copies and catches up)' : '';
      io.out(`  ${mismatches.length} bucket(s) differ${expected}:`);
      io.out(formatMismatches(mismatches));
    }
  }
  const orphans = await findOrphans(set, active);
  if (orphans.length === 0) {
    io.out('every row of every table lies on the shard that owns its bucket');
    return 0;
  }
  io.out(`${orphans.length} orphan group(s): rows on a shard that does not own their bucket`);
  io.out(
    formatTable(
      ['shard', 'table', 'bucket', 'rows', 'owner', 'e.g. order id'],
      orphans.map((o) => [String(o.shard), o.table, String(o.bucket), String(o.rows), String(o.owner), o.sample]),
    ),
  );
  return orphans.length;
}

function formatMismatches(mismatches: MoveStoppedError['mismatches']): string {
  return formatTable(
    ['table', 'bucket', 'source rows', 'target rows', 'source checksum', 'target checksum'],
    mismatches.map((m) => [m.table, String(m.bucket), String(m.source.rows), String(m.target.rows), m.source.checksum, m.target.checksum]),
  );
}

async function abort(set: ShardSet, io: CliIo): Promise<number> {
  const move = await new BucketMover(set, (e) => e.kind === 'log' && io.out(e.message)).abort();
  io.out(
    `aborted move #${move.id}: triggers dropped, buckets ${formatRange(move.range)} writable on shard ${move.source} as before, ` +
      `the copies on shard ${move.target} deleted`,
  );
  return 0;
}

async function move(set: ShardSet, args: Args, io: CliIo): Promise<number> {
  const range = parseBucketRange(one(args, '--buckets'));
  const toText = one(args, '--to');
  const target = Number(toText);
  if (toText === undefined || !Number.isInteger(target) || target < 0) throw new MoveRefusedError(`--to must be a shard index, got "${toText ?? ''}"`);
  if (target >= set.pools.length) {
    const variable = set.name === 'orders' ? 'ORDER_SHARDS' : 'READ_SHARDS';
    throw new MoveRefusedError(`shard ${target} is not in the ${set.name} set's list (${set.describeShards()}): list the new shard in ${variable} first`);
  }
  const batch = positiveInt(args, '--batch', 500);
  const fenceMs = positiveInt(args, '--fence-ms', 2_000);
  const soakMs = parseDuration(one(args, '--soak') ?? '60s', '--soak');
  const metricsPort = one(args, '--metrics-port');

  const metrics = new MoverMetrics(set.name);
  if (metricsPort !== undefined) io.out(`mover metrics at http://127.0.0.1:${await metrics.serve(Number(metricsPort))}/metrics`);
  const watch = await latencyWatch(args, io);
  const pending: Promise<unknown>[] = [];
  const timed = (line: string) => io.out(`${new Date().toISOString().slice(11, 19)} ${line}`);
  const copyStart = { at: Date.now(), rows: undefined as number | undefined };
  let lastProgress = 0;
  let catchUpShown = false;

  const onEvent = (event: MoveEvent) => {
    metrics.observe(event);
    switch (event.kind) {
      case 'log':
        timed(event.message);
        break;
      case 'state':
        timed(`state: ${event.move.state}`);
        if (watch && event.move.state === 'copying') pending.push(watch.start('during copy'));
        if (watch && event.move.state === 'catching-up') pending.push(watch.end('during copy'));
        if (watch && event.move.state === 'switching') pending.push(watch.start('switch window'));
        if (watch && event.move.state === 'switched') pending.push(watch.end('switch window'));
        break;
      case 'copy': {
        const tables = Object.values(event.move.progress.tables);
        const copied = tables.reduce((n, t) => n + t.copied, 0);
        const total = Math.max(
          copied,
          tables.reduce((n, t) => n + t.total, 0),
        );
        copyStart.rows ??= copied;
        const seconds = (Date.now() - copyStart.at) / 1000;
        const line = `copying ${event.table}: ${progressLine(copied, total, seconds > 0 ? (copied - copyStart.rows) / seconds : 0)}`;
        if (io.progress) io.progress(line);
        else if (Date.now() - lastProgress >= 2_000 || copied >= total) {
          lastProgress = Date.now();
          timed(line);
        }
        break;
      }
      case 'catch-up': {
        const line = `catching up: ${event.applied.toLocaleString('en-US')} changes applied, backlog ${event.backlog.toLocaleString('en-US')}`;
        if (io.progress) io.progress(line);
        else if (Date.now() - lastProgress >= 2_000 || !catchUpShown) {
          lastProgress = Date.now();
          catchUpShown = true;
          timed(line);
        }
        break;
      }
      case 'verify':
        timed(event.mismatches.length === 0 ? `verify: ${event.rows} rows agree` : `verify: ${event.mismatches.length} bucket(s) differ`);
        if (event.mismatches.length > 0) io.out(formatMismatches(event.mismatches));
        break;
      case 'fenced':
        timed(`switch: the buckets' writes were fenced for ${event.fencedMs} ms (lease ${event.move.progress.fenceMs} ms)`);
        break;
      case 'drain': {
        const behind = event.behind.map((w) => `${w.instance} (version ${w.version}, seen ${formatDuration(w.seenAgoMs)} ago)`).join(', ');
        timed(`drain: waiting for ${behind} to take the new map`);
        break;
      }
    }
  };

  try {
    const result = await new BucketMover(set, onEvent).move({ range, target, batch, fenceMs, soakMs, signal: io.signal });
    await Promise.all(pending);
    if (watch) {
      timed(`watching ${WATCH_BEFORE_MS / 1000} s after the move`);
      await watch.start('after');
      await sleep(WATCH_BEFORE_MS, io.signal);
      await watch.end('after');
    }
    io.out(
      `\nmove #${result.id} done: buckets ${formatRange(result.range)} of the ${set.name} set moved from shard ${result.source} to shard ${result.target}`,
    );
    io.out(formatPhases(result.progress.phases));
    if (watch) io.out(`\n${formatWindows(watch.windows)}`);
    return 0;
  } finally {
    await metrics.stop();
  }
}

/** The watch, and its "before" window taken now (the move starts 10 s later), or none when nothing answers. */
async function latencyWatch(args: Args, io: CliIo): Promise<LatencyWatch | undefined> {
  const given = args.options.get('--watch');
  const watch = new LatencyWatch(given ?? [DEFAULT_WATCH]);
  if (!(await watch.answers())) {
    io.out(
      given
        ? `--watch: ${given.join(', ')} does not answer: no latency figures`
        : `no order-command metrics at ${DEFAULT_WATCH}: no latency figures (--watch URL)`,
    );
    return undefined;
  }
  io.out(`watching PlaceOrder at ${watch.urls.join(', ')}: ${WATCH_BEFORE_MS / 1000} s before the move starts`);
  await watch.start('before');
  await sleep(WATCH_BEFORE_MS, io.signal);
  await watch.end('before');
  return watch;
}

function formatWindows(windows: WindowFigures[]): string {
  return formatTable(
    ['PlaceOrder', 'seconds', 'orders', 'orders/s', 'p99'],
    windows.map((w) => [
      w.name,
      w.seconds.toFixed(1),
      String(w.orders),
      w.ordersPerSecond.toFixed(1),
      w.p99Ms === undefined ? '-' : `${w.p99Ms.toFixed(1)} ms`,
    ]),
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new MoveInterruptedError());
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new MoveInterruptedError());
    });
  });
}
