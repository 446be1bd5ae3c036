import { parseShardMap } from '@orderflow/sharding';
import { bucketCounts, withBucketsOn } from './map-math';
import { planMoves } from './plan';

const apply = (spec: string, shards: number) => {
  let map = parseShardMap(spec, shards);
  const moves = planMoves(map);
  for (const move of moves) {
    // Every planned move takes its buckets from one shard: the one it names.
    for (let b = move.range.first; b <= move.range.last; b++) expect(map.shardForBucket(b)).toBe(move.from);
    map = withBucketsOn(map, move.range, move.to);
  }
  return { moves, counts: bucketCounts(map) };
};

describe('planMoves', () => {
  it('when a new empty shard joins two halves, then the moves leave every shard with 341 or 342 buckets', () => {
    const { moves, counts } = apply('0-511:0,512-1023:1', 3);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(counts.reduce((a, b) => a + b)).toBe(1024);
    expect(moves.every((m) => m.to === 2)).toBe(true);
    // Only what must move moves: shard 2 ends with its share, taken from the two others.
    expect(moves.reduce((n, m) => n + m.range.last - m.range.first + 1, 0)).toBe(counts[2]);
  });

  it('when the map is already even, then there is nothing to move', () => {
    expect(planMoves(parseShardMap('0-255:0,256-511:1,512-767:2,768-1023:3', 4))).toEqual([]);
  });

  it('when one shard holds everything and three are new, then each new one gets a quarter', () => {
    const { counts } = apply('0-1023:0', 4);
    expect(counts).toEqual([256, 256, 256, 256]);
  });

  it('when the buckets are fragmented, then the moves still even them out, each from one source', () => {
    const { counts } = apply('0-99:1,100-199:0,200-899:1,900-1023:0', 3);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });
});
