import { BUCKET_COUNT, ShardMap, type BucketRange as MapRange } from '@orderflow/sharding';
import { MoveRefusedError } from './shard-set';
import type { BucketRange } from './sql';

/** "A-B" or "A": a bucket range; refuses anything else, or buckets outside 0..1023. */
export function parseBucketRange(text: string | undefined): BucketRange {
  const match = /^\s*(\d{1,4})\s*(?:-\s*(\d{1,4})\s*)?$/.exec(text ?? '');
  if (!match) throw new MoveRefusedError(`--buckets must be A-B or A (buckets 0..${BUCKET_COUNT - 1}), got "${text ?? ''}"`);
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (first > last) throw new MoveRefusedError(`--buckets ${text}: the first bucket must not be after the last`);
  if (last >= BUCKET_COUNT) throw new MoveRefusedError(`--buckets ${text}: buckets go from 0 to ${BUCKET_COUNT - 1}`);
  return { first, last };
}

export const formatRange = ({ first, last }: BucketRange) => (first === last ? `${first}` : `${first}-${last}`);

export const bucketsOf = ({ first, last }: BucketRange) => Array.from({ length: last - first + 1 }, (_, i) => first + i);

/** The shards that hold the range's buckets in `map`, each with its runs of buckets. */
export function holdersOf(map: ShardMap, range: BucketRange): Map<number, BucketRange[]> {
  const holders = new Map<number, BucketRange[]>();
  for (const bucket of bucketsOf(range)) {
    const shard = map.shardForBucket(bucket);
    const runs = holders.get(shard) ?? [];
    const last = runs[runs.length - 1];
    if (last && last.last === bucket - 1) last.last = bucket;
    else runs.push({ first: bucket, last: bucket });
    holders.set(shard, runs);
  }
  return holders;
}

/** `map` with the range's buckets on `target`. */
export function withBucketsOn(map: ShardMap, range: BucketRange, target: number): ShardMap {
  const ranges: MapRange[] = map.ranges().flatMap((r) => {
    const pieces: MapRange[] = [];
    if (r.from < range.first) pieces.push({ from: r.from, to: Math.min(r.to, range.first - 1), shard: r.shard });
    if (r.to > range.last) pieces.push({ from: Math.max(r.from, range.last + 1), to: r.to, shard: r.shard });
    return pieces;
  });
  ranges.push({ from: range.first, to: range.last, shard: target });
  return ShardMap.fromRanges(ranges, map.shardCount, map.bucketCount);
}

/** Buckets held per shard (every configured shard, empty ones included). */
export function bucketCounts(map: ShardMap): number[] {
  const counts = new Array<number>(map.shardCount).fill(0);
  for (const r of map.ranges()) counts[r.shard] = (counts[r.shard] ?? 0) + r.to - r.from + 1;
  return counts;
}
