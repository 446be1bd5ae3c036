import fc from 'fast-check';
import { BUCKET_COUNT } from './order-id';
import { bucketMoves, evenShardMap, parseShardMap, ShardMap, ShardMapError, ShardMapProblemKind, shardMapFromConfig } from './shard-map';

function problemsOf(run: () => unknown): { kind: ShardMapProblemKind; message: string }[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ShardMapError) return error.problems;
    throw error;
  }
  throw new Error('expected a ShardMapError');
}

/** Random valid maps: cut 0..1023 at sorted points and give each range a shard. */
const mapArb = fc.integer({ min: 1, max: 16 }).chain((shardCount) =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: BUCKET_COUNT - 1 }), { maxLength: 20 })
    .chain((cuts) => {
      const edges = [0, ...cuts.sort((a, b) => a - b), BUCKET_COUNT];
      return fc
        .tuple(...edges.slice(1).map(() => fc.integer({ min: 0, max: shardCount - 1 })))
        .map((shards) => shards.map((shard, i) => ({ from: edges[i]!, to: edges[i + 1]! - 1, shard })));
    })
    .map((ranges) => ({ ranges, shardCount })),
);

describe('parseShardMap', () => {
  it('when the spec splits the buckets between two shards, then each bucket maps to its shard', () => {
    const map = parseShardMap('0-511:0,512-1023:1', 2);
    expect([0, 511, 512, 1023].map((b) => map.shardForBucket(b))).toEqual([0, 0, 1, 1]);
    expect(map.ranges()).toEqual([
      { from: 0, to: 511, shard: 0 },
      { from: 512, to: 1023, shard: 1 },
    ]);
  });

  it('when entries are unordered, single buckets or spaced out, then they are accepted', () => {
    const map = parseShardMap(' 512 - 1022 : 1 , 1023:0, 0-511 :0 ', 2);
    expect(map.toString()).toBe('0-511:0,512-1022:1,1023:0');
  });

  it('when any valid map is printed and parsed again, then the same bucket assignment comes back', () => {
    fc.assert(
      fc.property(mapArb, ({ ranges, shardCount }) => {
        const map = ShardMap.fromRanges(ranges, shardCount);
        const again = parseShardMap(map.toString(), shardCount);
        for (const { from, to, shard } of ranges) {
          expect(again.shardForBucket(from)).toBe(shard);
          expect(again.shardForBucket(to)).toBe(shard);
        }
        expect(again.toString()).toBe(map.toString());
      }),
    );
  });

  it('when buckets are left out, then a gap names them', () => {
    expect(problemsOf(() => parseShardMap('0-500:0,512-1022:1', 2))).toEqual([
      { kind: 'gap', message: 'buckets 501-511 are mapped to no shard' },
      { kind: 'gap', message: 'bucket 1023 is mapped to no shard' },
    ]);
  });

  it('when ranges overlap, then the overlap names both entries', () => {
    expect(problemsOf(() => parseShardMap('0-600:0,512-1023:1', 2))).toEqual([
      { kind: 'overlap', message: 'buckets 512-600 are mapped twice, by "0-600:0" and "512-1023:1"' },
    ]);
    expect(problemsOf(() => parseShardMap('0-1023:0,7:0', 1)).map((p) => p.kind)).toEqual(['overlap']);
  });

  it('when a shard index is not below the shard count, then it is out of range', () => {
    expect(problemsOf(() => parseShardMap('0-511:0,512-1023:2', 2))).toEqual([{ kind: 'shard-out-of-range', message: '"512-1023:2": shard 2 is not in 0..1' }]);
  });

  it('when a bucket is past the last bucket, then it is out of range', () => {
    expect(problemsOf(() => parseShardMap('0-511:0,512-1024:1', 2)).map((p) => p.kind)).toEqual(['bucket-out-of-range']);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['no shard', '0-1023'],
    ['no range', ':0'],
    ['a letter', '0-1023:a'],
    ['a negative bucket', '-1-1023:0'],
    ['a trailing comma', '0-1023:0,'],
    ['a semicolon', '0-511:0;512-1023:1'],
    ['a fraction', '0-1023:0.5'],
    ['an open range', '0-:0'],
  ])('when the spec has %s, then it is malformed', (_, spec) => {
    expect(problemsOf(() => parseShardMap(spec, 2)).map((p) => p.kind)).toContain('malformed');
  });

  it('when a range runs backwards, then it is malformed', () => {
    expect(problemsOf(() => parseShardMap('0-511:0,1023-512:1', 2)).map((p) => p.kind)).toEqual(['malformed', 'gap']);
  });

  it('when several things are wrong, then every problem is named at once', () => {
    const error = (() => {
      try {
        parseShardMap('0-100:0,50-200:5', 2);
      } catch (e) {
        return e as ShardMapError;
      }
      throw new Error('expected a ShardMapError');
    })();
    expect(error.problems.map((p) => p.kind)).toEqual(['shard-out-of-range', 'overlap', 'gap']);
    expect(error.message).toContain('buckets 201-1023 are mapped to no shard');
  });

  it('when any random spec is parsed, then it either maps every bucket to a shard in range or throws ShardMapError', () => {
    const entry = fc.tuple(fc.nat(1100), fc.nat(1100), fc.nat(3)).map(([a, b, s]) => `${a}-${b}:${s}`);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(entry, { maxLength: 5 }).map((e) => e.join(',')),
          fc.string(),
        ),
        (spec) => {
          let map: ShardMap;
          try {
            map = parseShardMap(spec, 3);
          } catch (error) {
            expect(error).toBeInstanceOf(ShardMapError);
            return;
          }
          for (let b = 0; b < BUCKET_COUNT; b++) expect([0, 1, 2]).toContain(map.shardForBucket(b));
        },
      ),
    );
  });
});

describe('evenShardMap', () => {
  it('when buckets are spread over n shards, then ranges are contiguous, ordered and differ in size by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: BUCKET_COUNT }), (shardCount) => {
        const ranges = evenShardMap(shardCount).ranges();
        expect(ranges.map((r) => r.shard)).toEqual(Array.from({ length: shardCount }, (_, i) => i));
        expect(ranges[0]!.from).toBe(0);
        expect(ranges[ranges.length - 1]!.to).toBe(BUCKET_COUNT - 1);
        const sizes = ranges.map((r) => r.to - r.from + 1);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('when there are two shards, then the compact form is the usual half split', () => {
    expect(evenShardMap(2).toString()).toBe('0-511:0,512-1023:1');
  });

  it.each([0, -1, 1.5, 1025])('when the shard count is %p, then it is rejected', (count) => {
    expect(problemsOf(() => evenShardMap(count)).map((p) => p.kind)).toEqual(['invalid-count']);
  });
});

describe('shardMapFromConfig', () => {
  it('when no spec is configured, then buckets are spread evenly; when one is, then it is used', () => {
    expect(shardMapFromConfig(undefined, 4).toString()).toBe(evenShardMap(4).toString());
    expect(shardMapFromConfig(' ', 2).toString()).toBe('0-511:0,512-1023:1');
    expect(shardMapFromConfig('0-1023:1', 2).toString()).toBe('0-1023:1');
  });
});

describe('bucketMoves', () => {
  it('when a third shard takes half of shard 1, then only those buckets move and no other', () => {
    const before = parseShardMap('0-511:0,512-1023:1', 2);
    const after = parseShardMap('0-511:0,512-767:1,768-1023:2', 3);
    expect(bucketMoves(before, after)).toEqual([{ from: 768, to: 1023, fromShard: 1, toShard: 2 }]);
  });

  it('when the same map is compared with itself, then nothing moves', () => {
    expect(bucketMoves(evenShardMap(3), evenShardMap(3))).toEqual([]);
  });
});
