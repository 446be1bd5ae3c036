import { BUCKET_COUNT } from './order-id';

/** Buckets `from..to` (both included) live on `shard`. */
export interface BucketRange {
  from: number;
  to: number;
  shard: number;
}

/** Buckets `from..to` move from `fromShard` to `toShard`. */
export interface BucketMove {
  from: number;
  to: number;
  fromShard: number;
  toShard: number;
}

export type ShardMapProblemKind = 'malformed' | 'invalid-count' | 'bucket-out-of-range' | 'shard-out-of-range' | 'overlap' | 'gap';

export interface ShardMapProblem {
  kind: ShardMapProblemKind;
  message: string;
}

export class ShardMapError extends Error {
  constructor(readonly problems: ShardMapProblem[]) {
    super(`invalid shard map:\n  ${problems.map((p) => p.message).join('\n  ')}`);
    this.name = 'ShardMapError';
  }
}

/**
 * Which physical shard holds each logical bucket. Immutable; every bucket maps to exactly one shard in
 * 0..shardCount-1. A shard may hold no buckets yet (a new shard before buckets are moved to it).
 */
export class ShardMap {
  private constructor(
    private readonly shardByBucket: readonly number[],
    readonly shardCount: number,
  ) {}

  get bucketCount(): number {
    return this.shardByBucket.length;
  }

  /** Checks that the ranges cover every bucket exactly once with shards in range; names every problem. */
  static fromRanges(ranges: readonly BucketRange[], shardCount: number, bucketCount: number = BUCKET_COUNT): ShardMap {
    const problems = checkCounts(shardCount, bucketCount);
    if (problems.length > 0) throw new ShardMapError(problems);

    const owner: (number | undefined)[] = new Array<number | undefined>(bucketCount).fill(undefined);
    const overlaps = new Map<string, { first: BucketRange; second: BucketRange; from: number; to: number }>();
    ranges.forEach((range, index) => {
      const { from, to, shard } = range;
      const label = formatRange(range);
      if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || from > to) {
        problems.push({ kind: 'malformed', message: `"${label}": a range must run from a lower to a higher bucket` });
        return;
      }
      if (to >= bucketCount) {
        problems.push({ kind: 'bucket-out-of-range', message: `"${label}": buckets go from 0 to ${bucketCount - 1}` });
      }
      if (!Number.isInteger(shard) || shard < 0 || shard >= shardCount) {
        problems.push({ kind: 'shard-out-of-range', message: `"${label}": shard ${shard} is not in 0..${shardCount - 1}` });
      }
      for (let bucket = from; bucket <= Math.min(to, bucketCount - 1); bucket++) {
        const previous = owner[bucket];
        if (previous === undefined) {
          owner[bucket] = index;
          continue;
        }
        const key = `${previous}/${index}`;
        const seen = overlaps.get(key);
        if (seen) seen.to = bucket;
        else overlaps.set(key, { first: ranges[previous] as BucketRange, second: range, from: bucket, to: bucket });
      }
    });
    for (const o of overlaps.values()) {
      problems.push({
        kind: 'overlap',
        message: `${describeBuckets(o.from, o.to)} mapped twice, by "${formatRange(o.first)}" and "${formatRange(o.second)}"`,
      });
    }
    for (const [from, to] of runsOf(owner, (entry) => entry === undefined)) {
      problems.push({ kind: 'gap', message: `${describeBuckets(from, to)} mapped to no shard` });
    }
    if (problems.length > 0) throw new ShardMapError(problems);

    return new ShardMap(
      owner.map((index) => (ranges[index as number] as BucketRange).shard),
      shardCount,
    );
  }

  shardForBucket(bucket: number): number {
    const shard = Number.isInteger(bucket) ? this.shardByBucket[bucket] : undefined;
    if (shard === undefined) throw new RangeError(`bucket must be an integer in 0..${this.bucketCount - 1}, got ${String(bucket)}`);
    return shard;
  }

  /** Contiguous runs of buckets on one shard, in bucket order. */
  ranges(): BucketRange[] {
    return runsOf(this.shardByBucket, () => true).map(([from, to]) => ({ from, to, shard: this.shardByBucket[from] as number }));
  }

  /** The compact form parseShardMap reads, e.g. "0-511:0,512-1023:1". */
  toString(): string {
    return this.ranges().map(formatRange).join(',');
  }
}

/**
 * Reads the compact config form: comma-separated `FROM-TO:SHARD` (or `BUCKET:SHARD`) entries, e.g.
 * "0-511:0,512-1023:1". Whitespace around tokens is ignored.
 */
export function parseShardMap(spec: string, shardCount: number, bucketCount: number = BUCKET_COUNT): ShardMap {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new ShardMapError([{ kind: 'malformed', message: 'the shard map is empty' }]);
  }
  const ranges: BucketRange[] = [];
  const problems: ShardMapProblem[] = [];
  for (const entry of spec.split(',')) {
    const match = /^\s*(\d{1,9})\s*(?:-\s*(\d{1,9})\s*)?:\s*(\d{1,9})\s*$/.exec(entry);
    if (!match) {
      problems.push({ kind: 'malformed', message: `"${entry.trim()}" is not FROM-TO:SHARD or BUCKET:SHARD` });
      continue;
    }
    const from = Number(match[1]);
    ranges.push({ from, to: match[2] === undefined ? from : Number(match[2]), shard: Number(match[3]) });
  }
  // A malformed entry would also show up as a gap; report the cause alone.
  if (problems.length > 0) throw new ShardMapError(problems);
  return ShardMap.fromRanges(ranges, shardCount, bucketCount);
}

/** Splits the buckets into `shardCount` contiguous ranges whose sizes differ by at most one. */
export function evenShardMap(shardCount: number, bucketCount: number = BUCKET_COUNT): ShardMap {
  const problems = checkCounts(shardCount, bucketCount);
  if (problems.length > 0) throw new ShardMapError(problems);
  const ranges = Array.from({ length: shardCount }, (_, shard) => ({
    from: Math.floor((shard * bucketCount) / shardCount),
    to: Math.floor(((shard + 1) * bucketCount) / shardCount) - 1,
    shard,
  }));
  return ShardMap.fromRanges(ranges, shardCount, bucketCount);
}

/** The map to run with: the configured spec, or an even split when none is configured. */
export function shardMapFromConfig(spec: string | undefined, shardCount: number, bucketCount: number = BUCKET_COUNT): ShardMap {
  return spec === undefined || spec.trim() === '' ? evenShardMap(shardCount, bucketCount) : parseShardMap(spec, shardCount, bucketCount);
}

/** The buckets whose shard differs between two maps: the rows to copy when the map changes. */
export function bucketMoves(before: ShardMap, after: ShardMap): BucketMove[] {
  if (before.bucketCount !== after.bucketCount) {
    throw new RangeError(`both maps must have the same bucket count (${before.bucketCount} and ${after.bucketCount})`);
  }
  const moves: BucketMove[] = [];
  for (let bucket = 0; bucket < before.bucketCount; bucket++) {
    const fromShard = before.shardForBucket(bucket);
    const toShard = after.shardForBucket(bucket);
    if (fromShard === toShard) continue;
    const last = moves[moves.length - 1];
    if (last && last.to === bucket - 1 && last.fromShard === fromShard && last.toShard === toShard) last.to = bucket;
    else moves.push({ from: bucket, to: bucket, fromShard, toShard });
  }
  return moves;
}

function checkCounts(shardCount: number, bucketCount: number): ShardMapProblem[] {
  const problems: ShardMapProblem[] = [];
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > BUCKET_COUNT) {
    problems.push({ kind: 'invalid-count', message: `bucket count must be an integer in 1..${BUCKET_COUNT}, got ${String(bucketCount)}` });
  }
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > bucketCount) {
    problems.push({ kind: 'invalid-count', message: `shard count must be an integer in 1..${bucketCount}, got ${String(shardCount)}` });
  }
  return problems;
}

/** Maximal runs [from, to] of adjacent entries that equal each other and pass `keep`. */
function runsOf<T>(entries: readonly T[], keep: (entry: T) => boolean): [number, number][] {
  const runs: [number, number][] = [];
  for (let i = 0; i < entries.length; i++) {
    if (!keep(entries[i] as T)) continue;
    const last = runs[runs.length - 1];
    if (last && last[1] === i - 1 && entries[last[0]] === entries[i]) last[1] = i;
    else runs.push([i, i]);
  }
  return runs;
}

function formatRange({ from, to, shard }: BucketRange): string {
  return `${from === to ? from : `${from}-${to}`}:${shard}`;
}

function describeBuckets(from: number, to: number): string {
  return from === to ? `bucket ${from} is` : `buckets ${from}-${to} are`;
}
