import { parseShardMap, ShardRouter } from '@orderflow/sharding';
import { BucketMovingError, fenceManyStatement, fenceStatement, isFenceRejection, writeFenced } from './fence';
import type { LiveShardMap, ShardMapView } from './live-shard-map';
import { FENCE_MESSAGE } from './schema';

const signalled = (message: string) => Object.assign(new Error(message), { code: 'ER_SIGNAL_EXCEPTION' });
const refusal = () => signalled(`${FENCE_MESSAGE}: bucket not writable here at this map version`);

/** A map whose reads return the views given, one per refresh (the last one repeats). */
function scriptedMap(...views: ShardMapView[]) {
  let current = views[0]!;
  let reads = 0;
  const map = {
    get current() {
      return current;
    },
    refresh: async () => {
      reads++;
      current = views[Math.min(reads, views.length - 1)]!;
      return current;
    },
  };
  return { map: map as unknown as LiveShardMap, reads: () => reads };
}
const view = (version: number, spec: string): ShardMapView => ({ version, router: new ShardRouter(parseShardMap(spec, 2)) });

describe('the fence statement and its refusal', () => {
  it('when a write is routed, then its fence calls orderflow_fence with the bucket and the map version', () => {
    expect(fenceStatement(17, 4)).toEqual({ sql: 'CALL orderflow_fence(?, ?)', values: [17, 4] });
  });

  it('when a write spans several buckets, then ONE statement calls orderflow_fence_many with their distinct list in order; an empty or bad list is refused before any SQL', () => {
    expect(fenceManyStatement([12, 3, 12, 7], 4)).toEqual({ sql: 'CALL orderflow_fence_many(?, ?)', values: ['[3,7,12]', 4] });
    expect(() => fenceManyStatement([], 1)).toThrow(/no buckets/);
    expect(() => fenceManyStatement([1.5], 1)).toThrow(/bad bucket/);
    expect(() => fenceManyStatement([-1], 1)).toThrow(/bad bucket/);
  });

  it("when an error is the fence's SIGNAL, then it is a fence rejection; another SIGNAL or a plain error with that text is not", () => {
    expect(isFenceRejection(refusal())).toBe(true);
    expect(isFenceRejection({ parent: { code: 'ER_SIGNAL_EXCEPTION' }, message: `${FENCE_MESSAGE}: x` })).toBe(true);
    expect(isFenceRejection(signalled('stock would go negative'))).toBe(false);
    expect(isFenceRejection(new Error(`${FENCE_MESSAGE}: x`))).toBe(false);
    expect(isFenceRejection(undefined)).toBe(false);
  });
});

describe('writeFenced (a scripted map)', () => {
  it('when a newer map comes with the refusal, then the write runs again at once on the shard it names', async () => {
    const { map, reads } = scriptedMap(view(1, '0-511:0,512-1023:1'), view(2, '0-99:0,100:1,101-511:0,512-1023:1'));
    const shards: number[] = [];
    const result = await writeFenced(
      map,
      100,
      async (route) => {
        shards.push(route.shard);
        if (route.version === 1) throw refusal();
        return 'written';
      },
      { maxWaitMs: 0 },
    );
    expect(result).toBe('written');
    expect(shards).toEqual([0, 1]);
    expect(reads()).toBe(1);
  });

  it('when the map stays the same, then the pauses between tries grow from 5 ms, doubling, to at most 100 ms, within maxWaitMs', async () => {
    const { map } = scriptedMap(view(1, '0-511:0,512-1023:1'));
    const at: number[] = [];
    const started = Date.now();
    const error = await writeFenced(
      map,
      3,
      async () => {
        at.push(Date.now() - started);
        throw refusal();
      },
      { maxWaitMs: 600 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BucketMovingError);
    expect((error as BucketMovingError).message).toMatch(/bucket 3 is being moved/);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // 5, 10, 20, 40, 80, 100, 100, ... (timers may fire late, never early)
    expect(gaps.slice(0, 5).every((gap, i) => gap >= 5 * 2 ** i - 1)).toBe(true);
    expect(Math.max(...gaps)).toBeLessThan(100 + 200);
    expect(at.at(-1)!).toBeLessThanOrEqual(600 + 200);
  });
});
