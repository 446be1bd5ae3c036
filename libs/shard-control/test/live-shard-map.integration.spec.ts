import type { SqlPool } from '@orderflow/database';
import { LiveShardMap, type ShardMapView } from '../src';
import { ShardSet, shardSet, switchBucket, waitFor } from './support';

const HALVES = '0-511:0,512-1023:1';
const THIRDS = '0-299:0,300-699:1,700-1023:2';

describe('LiveShardMap over a shard set (real MariaDB)', () => {
  let set: ShardSet;
  const maps: LiveShardMap[] = [];
  let instances = 0;

  /** A map as a process would hold it (stopped after each test). */
  function liveMap(spec: string, pools: readonly SqlPool[] = set.pools, pollMs = 60_000): LiveShardMap {
    const map = new LiveShardMap(pools, set.router(spec, pools.length), { instance: `test-${process.pid}-${++instances}`, pollMs });
    maps.push(map);
    return map;
  }

  const owners = async () => {
    const byShard = await Promise.all(
      set.pools.map((_, shard) => set.rows<{ bucket: number; epoch: string; state: string }>(shard, 'SELECT bucket, epoch, state FROM shard_buckets')),
    );
    return byShard.flatMap((rows, shard) => rows.map((row) => ({ shard, bucket: Number(row.bucket), epoch: Number(row.epoch), state: row.state })));
  };
  const watchers = () => set.rows<{ instance: string; version: string }>(0, 'SELECT instance, version FROM shard_map_watchers ORDER BY instance');

  beforeAll(async () => {
    set = await shardSet(3);
  });
  afterEach(async () => {
    await Promise.all(maps.splice(0).map((map) => map.stop()));
    for (const shard of [0, 1, 2]) await set.exec(shard, 'DELETE FROM shard_buckets');
    await set.exec(0, 'DELETE FROM shard_map');
    await set.exec(0, 'DELETE FROM shard_map_watchers');
  });
  afterAll(() => set?.drop());

  it('when two processes configured with different maps start at once on an empty set, then version 1 is written once, both route by it, and each bucket has one owner', async () => {
    for (let round = 0; round < 5; round++) {
      const a = liveMap(HALVES, set.morePools());
      const b = liveMap(THIRDS, set.morePools());
      await Promise.all([a.start(), b.start()]);

      const stored = (await set.rows<{ version: string; spec: string }>(0, 'SELECT CAST(version AS CHAR) AS version, spec FROM shard_map'))[0]!;
      expect(stored.version).toBe('1');
      expect([HALVES, THIRDS]).toContain(stored.spec);
      for (const map of [a, b]) {
        expect(map.current.version).toBe(1);
        expect(map.current.router.shardMap.toString()).toBe(stored.spec);
      }
      const rows = await owners();
      expect(rows).toHaveLength(1024);
      expect(new Set(rows.map((r) => r.bucket)).size).toBe(1024);
      const winner = set.router(stored.spec);
      expect(rows.every((r) => r.state === 'OWNED' && r.epoch === 1 && winner.shardForBucket(r.bucket) === r.shard)).toBe(true);

      await Promise.all(maps.splice(0).map((map) => map.stop()));
      for (const shard of [0, 1, 2]) await set.exec(shard, 'DELETE FROM shard_buckets');
      await set.exec(0, 'DELETE FROM shard_map');
    }
  });

  it('when a map is already stored, then a process configured otherwise routes by the stored one and gives no shard any bucket', async () => {
    await liveMap(HALVES).start();
    const before = await owners();
    const other = liveMap(THIRDS, set.morePools());
    await other.start();
    expect(other.current.version).toBe(1);
    expect(other.current.router.shardMap.toString()).toBe(HALVES);
    expect(await owners()).toEqual(before);
  });

  it('when the map changes, then refresh() reads it at once, listeners hear of it, and an older version is never taken back', async () => {
    const map = liveMap(HALVES);
    await map.start();
    const seen: ShardMapView[] = [];
    map.onChange((view) => seen.push(view));

    await switchBucket(set, 600, 1, 2, 2, '0-511:0,512-599:1,600:2,601-1023:1');
    const view = await map.refresh();
    expect(view.version).toBe(2);
    expect(view.router.shardForBucket(600)).toBe(2);
    expect(map.current).toBe(view);
    expect(seen.map((v) => v.version)).toEqual([2]);

    // A map row going back (a restore from an old backup) does not make the process route backwards.
    await set.exec(0, 'UPDATE shard_map SET version = 1, spec = ? WHERE id = 1', [HALVES]);
    expect((await map.refresh()).version).toBe(2);
    expect(seen).toHaveLength(1);
  });

  it('when refresh() is called many times at once, then they share one read', async () => {
    const map = liveMap(HALVES);
    await map.start();
    const reads = await Promise.all(Array.from({ length: 10 }, () => map.refresh()));
    expect(new Set(reads).size).toBe(1);
  });

  it('when the map changes, then a process takes the newer version by polling and reports it in shard_map_watchers; at stop it leaves the watchers', async () => {
    const polling = liveMap(HALVES, set.pools, 50);
    const idle = liveMap(HALVES, set.morePools());
    await polling.start();
    await idle.start();
    expect((await watchers()).map((w) => w.version)).toEqual(['1', '1']);

    await switchBucket(set, 10, 0, 2, 2, '0-9:0,10:2,11-511:0,512-1023:1');
    await waitFor(async () => polling.current.version === 2, 'the polling process to take version 2');
    expect(polling.current.router.shardForBucket(10)).toBe(2);
    const reported = await waitFor(async () => {
      const rows = await watchers();
      return rows.some((w) => w.version === '2') && rows;
    }, 'version 2 reported');
    // The process that polls only once a minute still holds version 1, and says so.
    expect(reported.map((w) => w.version).sort()).toEqual(['1', '2']);
    expect(idle.current.version).toBe(1);

    await polling.stop();
    await idle.stop();
    // No poll in flight at stop comes back to report it again.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await watchers()).toEqual([]);
  });

  it('when the stored map names a shard beyond the configured list, then the process refuses to start and says why', async () => {
    await liveMap(THIRDS).start();
    const twoShards = liveMap(HALVES, set.morePools().slice(0, 2));
    await expect(twoShards.start()).rejects.toThrow(/stored shard map \(version 1: "0-299:0,300-699:1,700-1023:2"\) names a shard beyond the 2 configured/);
  });

  it('when a shard was added to the configured list but holds no buckets yet, then the stored map still loads', async () => {
    await liveMap(HALVES, set.morePools().slice(0, 2)).start();
    // The same two halves, now with an empty shard 2 configured.
    const map = liveMap(HALVES);
    await map.start();
    expect(map.current.router.shardCount).toBe(3);
    expect(map.current.router.shardForBucket(700)).toBe(1);
  });
});
