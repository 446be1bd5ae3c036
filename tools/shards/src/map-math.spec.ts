import { parseShardMap } from '@orderflow/sharding';
import { holdersOf, parseBucketRange, withBucketsOn } from './map-math';
import { MoveRefusedError } from './shard-set';

describe('bucket ranges', () => {
  it('when a range is A-B or A, then it is read; otherwise the command is refused with the reason', () => {
    expect(parseBucketRange('10-20')).toEqual({ first: 10, last: 20 });
    expect(parseBucketRange('7')).toEqual({ first: 7, last: 7 });
    for (const bad of ['', '20-10', '0-1024', 'a-b', '1-2-3', undefined]) expect(() => parseBucketRange(bad)).toThrow(MoveRefusedError);
  });

  it('when buckets move, then the new map has them on the target and everything else where it was', () => {
    const map = parseShardMap('0-511:0,512-1023:1', 3);
    expect(withBucketsOn(map, { first: 500, last: 520 }, 2).toString()).toBe('0-499:0,500-520:2,521-1023:1');
    expect(withBucketsOn(map, { first: 0, last: 1023 }, 1).toString()).toBe('0-1023:1');
  });

  it('when a range spans two shards, then its holders name both with their runs', () => {
    const holders = holdersOf(parseShardMap('0-511:0,512-1023:1', 2), { first: 510, last: 513 });
    expect([...holders]).toEqual([
      [0, [{ first: 510, last: 511 }]],
      [1, [{ first: 512, last: 513 }]],
    ]);
  });
});
