import { BucketMover, MAIN_TABLE, TABLES } from '../src';
import { createTestShards, rowsInBuckets, seedOrders, type TestShards } from './fixture';

const SPEC = '0-511:0,512-1023:1';

describe('a move of a bucket range (order shards)', () => {
  let shards: TestShards;
  afterEach(async () => shards?.drop());

  it('when buckets move to a new empty shard, then the target has every row, the map says so, and the source keeps none after cleanup', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    await seedOrders(shards, SPEC, [10, 11, 12, 600], 30);
    const set = shards.shardSet();
    const events: string[] = [];
    const mover = new BucketMover(set, (e) => events.push(e.kind === 'state' ? e.move.state : e.kind));
    const move = await mover.move({ range: { first: 10, last: 12 }, target: 2, batch: 7, soakMs: 100 });
    expect(move.state).toBe('done');
    const map = await set.readMap();
    expect(map.version).toBe(2);
    expect(map.map.toString()).toBe('0-9:0,10-12:2,13-511:0,512-1023:1');
    for (const table of TABLES.orders) {
      expect(await rowsInBuckets(shards.pools[0]!, table.name, table.orderIdColumn, 10, 12)).toBe(0);
      expect(await rowsInBuckets(shards.pools[2]!, table.name, table.orderIdColumn, 10, 12)).toBeGreaterThanOrEqual(90);
    }
    expect(await rowsInBuckets(shards.pools[1]!, MAIN_TABLE.orders, 'id', 600, 600)).toBe(30);
    expect(events).toEqual(expect.arrayContaining(['copying', 'catching-up', 'switching', 'switched', 'soaking', 'cleaning', 'done']));
  });
});
