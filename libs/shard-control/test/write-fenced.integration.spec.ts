import { isDuplicateKey } from '@orderflow/database';
import { BucketMovingError, type FencedRoute, LiveShardMap, writeFenced } from '../src';
import { setBucket, ShardSet, shardSet, sleep, switchBucket } from './support';

const HALVES = '0-511:0,512-1023:1';
/** Bucket 100 moved from shard 0 to shard 1. */
const MOVED_100 = '0-99:0,100:1,101-511:0,512-1023:1';

describe('writeFenced (real MariaDB, two shards)', () => {
  let set: ShardSet;
  let map: LiveShardMap;
  let nextId = 0;

  /** A whole transaction: the route's fence, then a row of the bucket; records each route it ran on. */
  const insertOn =
    (routes: FencedRoute[], bucket: number, id = ++nextId) =>
    (route: FencedRoute) => {
      routes.push(route);
      return set.pools[route.shard]!.transaction((tx) =>
        tx.commitWith([route.fence, { sql: 'INSERT INTO writes (id, bucket) VALUES (?, ?)', values: [id, bucket] }]),
      );
    };
  const whereIs = async (bucket: number) =>
    Promise.all([0, 1].map(async (shard) => (await set.rows<{ id: string }>(shard, 'SELECT id FROM writes WHERE bucket = ?', [bucket])).length));

  beforeEach(async () => {
    set = await shardSet(2);
    // A process whose map is read at start only (no poll within a test): it goes stale when the test switches a bucket.
    map = new LiveShardMap(set.pools, set.router(HALVES), { instance: `writer-${process.pid}`, pollMs: 600_000 });
    await map.start();
  });
  afterEach(async () => {
    await map?.stop();
    await set?.drop();
  });

  it('when the map is current, then the write runs once on the shard it names, fenced at its version', async () => {
    const routes: FencedRoute[] = [];
    let fenced = 0;
    await writeFenced(map, 700, insertOn(routes, 700), { maxWaitMs: 1_000, onFenced: () => fenced++ });
    expect(routes.map((r) => [r.shard, r.version])).toEqual([[1, 1]]);
    expect(routes[0]!.fence).toEqual({ sql: 'CALL orderflow_fence(?, ?)', values: [700, 1] });
    expect(fenced).toBe(0);
    expect(await whereIs(700)).toEqual([0, 1]);
  });

  it('when the bucket was switched to another shard after this process read its map, then the write is refused on the old shard and lands on the new one', async () => {
    await switchBucket(set, 100, 0, 1, 2, MOVED_100);
    const routes: FencedRoute[] = [];
    let fenced = 0;
    await writeFenced(map, 100, insertOn(routes, 100), { maxWaitMs: 1_000, onFenced: () => fenced++ });
    expect(routes.map((r) => [r.shard, r.version])).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(fenced).toBe(1);
    expect(map.current.version).toBe(2);
    expect(await whereIs(100)).toEqual([0, 1]);
  });

  it('when the bucket is fenced for a short switch, then the write waits it out and lands where the switch put the bucket', async () => {
    await setBucket(set, 0, 100, 1, 'FENCED', 10_000);
    const routes: FencedRoute[] = [];
    const started = Date.now();
    const switched = sleep(300).then(() => switchBucket(set, 100, 0, 1, 2, MOVED_100));
    await writeFenced(map, 100, insertOn(routes, 100), { maxWaitMs: 5_000 });
    await switched;
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(routes.length).toBeGreaterThan(2);
    expect(routes.slice(0, -1).every((r) => r.shard === 0 && r.version === 1)).toBe(true);
    expect(routes.at(-1)).toMatchObject({ shard: 1, version: 2 });
    expect(await whereIs(100)).toEqual([0, 1]);
  });

  it('when the switch is abandoned and the lease lapses, then the write waits it out and lands on the old shard', async () => {
    await setBucket(set, 0, 100, 1, 'FENCED', 300);
    const routes: FencedRoute[] = [];
    await writeFenced(map, 100, insertOn(routes, 100), { maxWaitMs: 5_000 });
    expect(routes.at(-1)).toMatchObject({ shard: 0, version: 1 });
    expect(await whereIs(100)).toEqual([1, 0]);
  });

  it('when the bucket stays fenced longer than maxWaitMs, then the write gives up with BucketMovingError and wrote nothing', async () => {
    await setBucket(set, 0, 100, 1, 'FENCED', 30_000);
    const routes: FencedRoute[] = [];
    let fenced = 0;
    const started = Date.now();
    const error = await writeFenced(map, 100, insertOn(routes, 100), { maxWaitMs: 400, onFenced: () => fenced++ }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(BucketMovingError);
    expect(error).toMatchObject({ bucket: 100 });
    expect((error as BucketMovingError).waitedMs).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(1_500);
    expect(fenced).toBe(routes.length);
    expect(await whereIs(100)).toEqual([0, 0]);
  });

  it('when the work fails for another reason, then the error comes back at once, without a retry or a map read', async () => {
    const routes: FencedRoute[] = [];
    await writeFenced(map, 5, insertOn(routes, 5, 42), { maxWaitMs: 1_000 });
    const refresh = jest.spyOn(map, 'refresh');
    const again: FencedRoute[] = [];
    const error = await writeFenced(map, 5, insertOn(again, 5, 42), { maxWaitMs: 1_000 }).catch((e: unknown) => e);
    expect(isDuplicateKey(error)).toBe(true);
    expect(again).toHaveLength(1);
    const boom = new Error('boom');
    await expect(
      writeFenced(
        map,
        5,
        async () => {
          throw boom;
        },
        { maxWaitMs: 1_000 },
      ),
    ).rejects.toBe(boom);
    expect(refresh).not.toHaveBeenCalled();
  });
});
