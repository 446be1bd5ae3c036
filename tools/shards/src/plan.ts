import type { ShardMap } from '@orderflow/sharding';
import { bucketCounts } from './map-math';
import type { BucketRange } from './sql';

/** One move of a plan: contiguous buckets from one shard to another. */
export interface PlannedMove {
  range: BucketRange;
  from: number;
  to: number;
}

/**
 * Moves that even out the bucket counts over every shard of the map (new empty ones included): each shard
 * ends with floor or ceil of buckets/shards, the larger counts kept by the shards holding most already, so
 * as few buckets as possible move. Donors give from the top of what they hold, in contiguous runs (each
 * run one `move` command: a move takes buckets from one source).
 */
export function planMoves(map: ShardMap): PlannedMove[] {
  const counts = bucketCounts(map);
  const shards = counts.length;
  const base = Math.floor(map.bucketCount / shards);
  let extra = map.bucketCount % shards;
  const want = new Array<number>(shards).fill(base);
  for (const shard of [...counts.keys()].sort((a, b) => (counts[b] as number) - (counts[a] as number) || a - b)) {
    if (extra === 0) break;
    want[shard] = base + 1;
    extra -= 1;
  }
  const surplus = counts.map((count, shard) => count - (want[shard] as number));
  const owner = Array.from({ length: map.bucketCount }, (_, bucket) => map.shardForBucket(bucket));
  const moves: PlannedMove[] = [];
  for (let donor = 0; donor < shards; donor++) {
    const held = owner.flatMap((shard, bucket) => (shard === donor ? [bucket] : []));
    while ((surplus[donor] as number) > 0) {
      const receiver = surplus.findIndex((s) => s < 0);
      if (receiver < 0) break;
      const take = Math.min(surplus[donor] as number, -(surplus[receiver] as number));
      const given = held.splice(held.length - take, take);
      for (const range of runs(given)) moves.push({ range, from: donor, to: receiver });
      for (const bucket of given) owner[bucket] = receiver;
      surplus[donor] = (surplus[donor] as number) - take;
      surplus[receiver] = (surplus[receiver] as number) + take;
    }
  }
  return moves.sort((a, b) => a.range.first - b.range.first);
}

function runs(buckets: number[]): BucketRange[] {
  const result: BucketRange[] = [];
  for (const bucket of buckets) {
    const last = result[result.length - 1];
    if (last && last.last === bucket - 1) last.last = bucket;
    else result.push({ first: bucket, last: bucket });
  }
  return result;
}
