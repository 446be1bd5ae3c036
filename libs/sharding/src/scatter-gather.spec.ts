import fc from 'fast-check';
import { forEachShard, scatterGather, ShardOperationError, UnsortedShardResultError } from './scatter-gather';
import { evenShardMap } from './shard-map';
import { ShardRouter } from './shard-router';

const shardsOf = (count: number) => ({ shards: () => Array.from({ length: count }, (_, i) => i) });

interface Row {
  createdAt: number;
  shard: number;
  position: number;
}

/** Newest first, as listings are. */
const newestFirst = (a: Row, b: Row) => b.createdAt - a.createdAt;

describe('scatterGather', () => {
  it('when shards return sorted rows, then the merge equals a stable sort of all rows, cut at the limit', async () => {
    const perShard = fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(fc.array(perShard, { minLength: 1, maxLength: 8 }), fc.option(fc.nat(120), { nil: undefined }), async (shardTimes, limit) => {
        const rows = shardTimes.map((times, shard) => [...times].sort((a, b) => b - a).map((createdAt, position) => ({ createdAt, shard, position })));
        const asked: (number | undefined)[] = [];
        const merged = await scatterGather(
          shardsOf(rows.length),
          async (shard, options) => {
            asked.push(options.limit);
            return rows[shard]!;
          },
          { compare: newestFirst, limit },
        );
        const reference = rows.flat().sort(newestFirst).slice(0, limit);
        expect(merged).toEqual(reference);
        expect(asked).toEqual(rows.map(() => limit));
      }),
    );
  });

  it('when the limit is smaller than the rows, then only the globally first rows come back', async () => {
    const router = new ShardRouter(evenShardMap(3));
    const data: Record<number, number[]> = { 0: [9, 4, 1], 1: [8, 7, 6], 2: [5, 3, 2] };
    const merged = await scatterGather(router, async (shard) => data[shard]!, { compare: (a, b) => b - a, limit: 4 });
    expect(merged).toEqual([9, 8, 7, 6]);
  });

  it('when a shard returns rows out of order, then the merge fails naming that shard', async () => {
    const query = async (shard: number) => (shard === 1 ? [3, 1] : [2]);
    await expect(scatterGather(shardsOf(2), query, { compare: (a, b) => a - b })).rejects.toThrow(UnsortedShardResultError);
    await expect(scatterGather(shardsOf(2), query, { compare: (a, b) => a - b })).rejects.toThrow('shard 1');
  });

  it('when a shard fails, then the query fails naming it instead of returning partial rows', async () => {
    const query = async (shard: number) => {
      if (shard === 2) throw new Error('connection refused');
      return [shard];
    };
    const error = await scatterGather(shardsOf(3), query, { compare: (a, b) => a - b }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardOperationError);
    expect((error as ShardOperationError).failedShards).toEqual([2]);
  });

  it('when the limit is negative or fractional, then it is rejected', async () => {
    await expect(scatterGather(shardsOf(1), async () => [1], { compare: (a, b) => a - b, limit: -1 })).rejects.toThrow(RangeError);
    await expect(scatterGather(shardsOf(1), async () => [1], { compare: (a, b) => a - b, limit: 1.5 })).rejects.toThrow(RangeError);
  });
});

describe('forEachShard', () => {
  it('when every shard succeeds, then the results come back in shard order', async () => {
    const router = new ShardRouter(evenShardMap(4));
    await expect(forEachShard(router, async (shard) => `migrated ${shard}`)).resolves.toEqual(['migrated 0', 'migrated 1', 'migrated 2', 'migrated 3']);
  });

  it('when shards fail, then an aggregate error names each failing shard and its cause, after all shards finished', async () => {
    const finished: number[] = [];
    const error = await forEachShard(shardsOf(4), async (shard) => {
      await new Promise((resolve) => setTimeout(resolve, shard === 3 ? 20 : 1));
      finished.push(shard);
      if (shard === 1 || shard === 3) throw new Error(`migration 007 failed on ${shard}`);
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardOperationError);
    expect(error).toBeInstanceOf(AggregateError);
    const failure = error as ShardOperationError;
    expect(failure.failedShards).toEqual([1, 3]);
    expect(failure.errors).toHaveLength(2);
    expect(failure.message).toBe('2 of 4 shards failed: shard 1 (migration 007 failed on 1), shard 3 (migration 007 failed on 3)');
    expect(finished.sort()).toEqual([0, 1, 2, 3]);
  });

  it('when the work throws synchronously, then it is reported like any other failure', async () => {
    const error = await forEachShard(shardsOf(2), (shard) => {
      if (shard === 0) throw new Error('bad config');
      return Promise.resolve(shard);
    }).catch((e: unknown) => e);
    expect((error as ShardOperationError).failedShards).toEqual([0]);
  });

  it('when shards run, then they run at the same time rather than one after another', async () => {
    let running = 0;
    let peak = 0;
    await forEachShard(shardsOf(5), async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
    });
    expect(peak).toBe(5);
  });
});
