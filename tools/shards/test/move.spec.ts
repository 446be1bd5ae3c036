import { parseShardMap } from '@orderflow/sharding';
import mysql from 'mysql2/promise';
import { BucketMover, MoveRefusedError, MoveStoppedError, TABLES, type MoveEvent, type MoveState } from '../src';
import { writeFenced } from '@orderflow/shard-control';
import { createTestShards, newOrderId, placeOrderStatements, rowsInBuckets, seedOrders, shardSnapshot, type TestShards } from './fixture';
import { checkAcknowledged, OrderWriters } from './writers';

const SPEC = '0-511:0,512-1023:1';
const MOVING = [40, 41, 42, 43];
const STILL = [100, 700];

describe('online bucket moves of the order shards', () => {
  let shards: TestShards;
  afterEach(async () => shards?.drop());

  it('when buckets move to a new shard under concurrent writers, then every acknowledged order exists exactly once, on the target, and none is left on the source', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    const seeded = await seedOrders(shards, SPEC, [...MOVING, ...STILL], 60);
    const map = shards.liveMap('writer-1');
    await map.start();
    const writers = new OrderWriters(shards, map, { moving: MOVING, still: STILL });
    writers.adopt(seeded);
    const states: { state: MoveState; at: number }[] = [];
    const mover = new BucketMover(shards.shardSet(), (e: MoveEvent) => e.kind === 'state' && states.push({ state: e.move.state, at: Date.now() }));
    writers.start(6);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const move = await mover.move({ range: { first: 40, last: 43 }, target: 2, batch: 25, soakMs: 1_000 });
      expect(move.state).toBe('done');
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await writers.stop();
      await map.stop();
    }
    expect(writers.errors).toEqual([]);
    console.log(`acknowledged ${writers.acks.length} writes (${writers.acked.size} orders), ${writers.fenced} fence refusals`);
    // The fence engaged: writes to the moving buckets were refused (during the switch, or on the old shard after it) and re-routed.
    expect(writers.fenced).toBeGreaterThan(0);
    const after = parseShardMap('0-39:0,40-43:2,44-511:0,512-1023:1', 3);
    expect((await shards.shardSet().readMap()).map.toString()).toBe(after.toString());
    expect(await checkAcknowledged(shards, writers, (bucket) => after.shardForBucket(bucket))).toEqual([]);
    for (const table of TABLES.orders) expect(await rowsInBuckets(shards.pools[0]!, table.name, table.orderIdColumn, 40, 43)).toBe(0);
    expect(await shards.pools[0]!.select('SELECT * FROM shard_changes')).toEqual([]);
    expect(await shards.pools[0]!.select(`SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()`)).toEqual([]);

    // Writes to the buckets that did not move kept flowing: acknowledged in every phase, never stalled long.
    const at = (state: MoveState) => states.find((s) => s.state === state)!.at;
    const still = writers.acks.filter((a) => !a.moving).map((a) => a.at);
    const during = (from: number, to: number) => still.filter((t) => t >= from && t <= to).length;
    expect(during(at('copying'), at('catching-up'))).toBeGreaterThan(0);
    expect(during(at('switched'), at('done'))).toBeGreaterThan(0);
    const inMove = still.filter((t) => t >= at('copying') && t <= at('done'));
    const longestGap = Math.max(...inMove.slice(1).map((t, i) => t - inMove[i]!));
    expect(longestGap).toBeLessThan(2_000);
    // And the moving buckets took writes again on their new shard once the map switched; none waited longer than the lease and a poll.
    expect(writers.acks.filter((a) => a.moving && a.at > at('switched')).length).toBeGreaterThan(0);
    expect(Math.max(...writers.acks.filter((a) => a.moving).map((a) => a.ms))).toBeLessThan(2_000 + 1_000);
  });

  it('when a process kept the old map through the switch, then its write is refused on the old shard and lands on the new one', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    await seedOrders(shards, SPEC, MOVING, 5);
    const stale = shards.liveMap('stale-process', 3_600_000);
    await stale.start();
    // Seen long ago as far as the drain is concerned: it does not wait for this process.
    await shards.pools[0]!.run([{ sql: `DELETE FROM shard_map_watchers WHERE instance = 'stale-process'` }]);
    try {
      await new BucketMover(shards.shardSet()).move({ range: { first: 40, last: 43 }, target: 2, soakMs: 0 });
      expect(stale.current.version).toBe(1);
      const orderId = newOrderId(41);
      let refusals = 0;
      const routes: number[] = [];
      await writeFenced(
        stale,
        41,
        (route) => {
          routes.push(route.shard);
          return shards.pools[route.shard]!.transaction((tx) => tx.commitWith([route.fence, ...placeOrderStatements(orderId)]));
        },
        { maxWaitMs: 5_000, onFenced: () => (refusals += 1) },
      );
      expect(routes).toEqual([0, 2]);
      expect(refusals).toBe(1);
      expect(await shards.pools[2]!.select('SELECT id FROM orders WHERE id = ?', [orderId])).toHaveLength(1);
      expect(await shards.pools[0]!.select('SELECT id FROM orders WHERE id = ?', [orderId])).toHaveLength(0);
    } finally {
      await stale.stop();
    }
  });

  it('when the mover dies while the buckets are fenced, then their writes wait at most the lease, and the command run again switches with them', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    await seedOrders(shards, SPEC, MOVING, 5);
    let alive = true;
    const mover = new BucketMover(shards.shardSet(), (e) => {
      if (alive && e.kind === 'verify') {
        alive = false;
        throw new Error('killed while fenced');
      }
    });
    await expect(mover.move({ range: { first: 40, last: 43 }, target: 2, fenceMs: 1_500, soakMs: 0 })).rejects.toThrow('killed while fenced');
    expect(await shards.pools[0]!.select(`SELECT DISTINCT state FROM shard_buckets WHERE bucket BETWEEN 40 AND 43`)).toEqual([{ state: 'FENCED' }]);
    const map = shards.liveMap('writer-after-crash');
    await map.start();
    const orderId = newOrderId(41);
    const started = Date.now();
    try {
      await writeFenced(map, 41, (route) => shards.pools[route.shard]!.transaction((tx) => tx.commitWith([route.fence, ...placeOrderStatements(orderId)])), {
        maxWaitMs: 5_000,
      });
    } finally {
      await map.stop();
    }
    // The lease lapsed (1.5 s at most): the write went to the old owner, the map unchanged.
    expect(Date.now() - started).toBeLessThan(1_500 + 1_000);
    expect(await shards.pools[0]!.select('SELECT id FROM orders WHERE id = ?', [orderId])).toHaveLength(1);
    await expect(mover.move({ range: { first: 40, last: 43 }, target: 2, soakMs: 0 })).resolves.toMatchObject({ state: 'done' });
    expect(await shards.pools[2]!.select('SELECT id FROM orders WHERE id = ?', [orderId])).toHaveLength(1);
    expect(await shards.pools[0]!.select('SELECT id FROM orders WHERE id = ?', [orderId])).toHaveLength(0);
  });

  it('when a move is aborted mid-copy, then source, target and map are exactly as before', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    await seedOrders(shards, SPEC, MOVING, 50);
    const before = await Promise.all(shards.pools.map((pool) => shardSnapshot(pool, 'orders')));
    const controller = new AbortController();
    let batches = 0;
    const mover = new BucketMover(shards.shardSet(), (e) => {
      if (e.kind === 'copy' && ++batches === 3) controller.abort();
    });
    await expect(mover.move({ range: { first: 40, last: 43 }, target: 2, batch: 20, signal: controller.signal })).rejects.toThrow('interrupted');
    expect(await rowsInBuckets(shards.pools[2]!, 'orders', 'id', 40, 43)).toBeGreaterThan(0);
    const aborted = await mover.abort();
    expect(aborted.state).toBe('aborted');
    expect(await Promise.all(shards.pools.map((pool) => shardSnapshot(pool, 'orders')))).toEqual(before);
    expect(await shards.shardSet().readMap()).toMatchObject({ version: 1 });
    expect(await mover.active()).toBeUndefined();
  });

  it('when a target row is corrupted during the move, then the switch refuses (fail closed): buckets unfenced, map unchanged', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    const [victim] = await seedOrders(shards, SPEC, MOVING, 20);
    const target = shards.pools[2]!;
    const mover = new BucketMover(shards.shardSet(), (e) => {
      if (e.kind === 'state' && e.move.state === 'catching-up')
        void target.run([{ sql: `UPDATE orders SET total_minor = total_minor + 1 WHERE id = ?`, values: [victim] }]);
    });
    const run = mover.move({ range: { first: 40, last: 43 }, target: 2, batch: 50, soakMs: 0 });
    await expect(run).rejects.toThrow(MoveStoppedError);
    const error = (await run.catch((e: unknown) => e)) as MoveStoppedError;
    expect(error.mismatches).toEqual([expect.objectContaining({ table: 'orders', bucket: 40 })]);
    expect(error.message).toContain('3 rounds failed');
    expect(await shards.shardSet().readMap()).toMatchObject({ version: 1 });
    expect(await shards.pools[0]!.select(`SELECT DISTINCT state FROM shard_buckets WHERE bucket BETWEEN 40 AND 43`)).toEqual([{ state: 'OWNED' }]);
    expect(await target.select('SELECT * FROM shard_buckets WHERE bucket BETWEEN 40 AND 43')).toEqual([]);
    expect((await mover.active())?.state).toBe('catching-up');
    // The operator's way out: abort, which leaves everything as before.
    await mover.abort();
    expect(await rowsInBuckets(target, 'orders', 'id', 40, 43)).toBe(0);
  });

  it('when the fence lease runs out before the switch, then nothing switches: the buckets are writable on the source again and the map stays', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    await seedOrders(shards, SPEC, MOVING, 20);
    const mover = new BucketMover(shards.shardSet());
    await expect(mover.move({ range: { first: 40, last: 43 }, target: 2, batch: 50, fenceMs: 1 })).rejects.toThrow(/lease \(--fence-ms 1\) ran out/);
    expect(await shards.shardSet().readMap()).toMatchObject({ version: 1 });
    expect(await shards.pools[0]!.select(`SELECT DISTINCT state FROM shard_buckets WHERE bucket BETWEEN 40 AND 43`)).toEqual([{ state: 'OWNED' }]);
    // Run again with a lease that fits: the same move resumes and switches.
    await expect(mover.move({ range: { first: 40, last: 43 }, target: 2, batch: 50, soakMs: 0 })).resolves.toMatchObject({ state: 'done' });
    expect(await shards.shardSet().readMap()).toMatchObject({ version: 2 });
  });

  it('when a process still holds the old map, then the move waits for it before soaking, and after the switch abort names the way back', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    await seedOrders(shards, SPEC, MOVING, 10);
    const control = shards.pools[0]!;
    const seen = () =>
      control.run([
        { sql: `INSERT INTO shard_map_watchers (instance, version, seen_at) VALUES ('slow-process', 1, NOW(3)) ON DUPLICATE KEY UPDATE seen_at = NOW(3)` },
      ]);
    await seen();
    const heartbeat = setInterval(() => void seen(), 200);
    const behind: string[] = [];
    const controller = new AbortController();
    const mover = new BucketMover(shards.shardSet(), (e) => {
      if (e.kind === 'drain') {
        behind.push(...e.behind.map((w) => `${w.instance}@${w.version}`));
        void control.run([{ sql: `UPDATE shard_map_watchers SET version = 2 WHERE instance = 'slow-process'` }]);
      }
      if (e.kind === 'state' && e.move.state === 'soaking') controller.abort();
    });
    try {
      await expect(mover.move({ range: { first: 40, last: 43 }, target: 2, soakMs: 60_000, signal: controller.signal })).rejects.toThrow('interrupted');
    } finally {
      clearInterval(heartbeat);
    }
    expect(behind).toEqual(['slow-process@1']);
    await expect(mover.abort()).rejects.toThrow(
      /has switched \(state soaking\).*the way back is a move to the old shard: npm run shards -- move --set orders --buckets 40-43 --to 0/,
    );
    await expect(mover.move({ range: { first: 40, last: 43 }, target: 2, soakMs: 0 })).resolves.toMatchObject({ state: 'done' });
  });

  it('when a writer holds a moving bucket past the fence, then the fence gives up within a second (other writes are not held up) and the run stops after three rounds', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    await seedOrders(shards, SPEC, MOVING, 10);
    const stuck = await mysql.createConnection({ ...shards.targets[0]!, multipleStatements: true });
    try {
      await stuck.query('START TRANSACTION; CALL orderflow_fence(40, 1)');
      const mover = new BucketMover(shards.shardSet());
      const started = Date.now();
      await expect(mover.move({ range: { first: 40, last: 43 }, target: 2, soakMs: 0 })).rejects.toThrow(
        /a writer held one of buckets 40-43 for over 1 s.*3 rounds failed/,
      );
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await shards.shardSet().readMap()).toMatchObject({ version: 1 });
      expect(await shards.pools[0]!.select(`SELECT DISTINCT state FROM shard_buckets WHERE bucket BETWEEN 40 AND 43`)).toEqual([{ state: 'OWNED' }]);
      await stuck.query('COMMIT');
      await expect(mover.move({ range: { first: 40, last: 43 }, target: 2, soakMs: 0 })).resolves.toMatchObject({ state: 'done' });
    } finally {
      await stuck.end();
    }
  });

  it('when a move is asked for what cannot be moved, then it is refused with the reason and nothing changes', async () => {
    shards = await createTestShards('orders', 3, SPEC);
    const mover = new BucketMover(shards.shardSet());
    await expect(mover.move({ range: { first: 500, last: 520 }, target: 2 })).rejects.toThrow(
      /live on more than one shard \(500-511 on shard 0; 512-520 on shard 1\)/,
    );
    await expect(mover.move({ range: { first: 600, last: 610 }, target: 1 })).rejects.toThrow('shard 1 already owns buckets 600-610');
    await expect(mover.move({ range: { first: 1, last: 2 }, target: 3 })).rejects.toThrow(MoveRefusedError);
    await expect(mover.move({ range: { first: 9, last: 2 }, target: 2 })).rejects.toThrow('buckets 9-2 are not a range of buckets 0..1023');
    // Another mover process of the set holds its lock: refused, not run side by side.
    const other = await mysql.createConnection(shards.targets[0]!);
    try {
      await other.query('SELECT GET_LOCK(?, 0)', [`orderflow.shards.${shards.targets[0]!.database}`.slice(0, 64)]);
      await expect(mover.move({ range: { first: 1, last: 2 }, target: 2 })).rejects.toThrow(
        /another npm run shards process is moving or aborting in the orders set now/,
      );
      await expect(mover.abort()).rejects.toThrow(/another npm run shards process/);
    } finally {
      await other.end();
    }
    const controller = new AbortController();
    controller.abort();
    await expect(mover.move({ range: { first: 1, last: 2 }, target: 2, signal: controller.signal })).rejects.toThrow('interrupted');
    await expect(mover.move({ range: { first: 3, last: 4 }, target: 2 })).rejects.toThrow(/another move of the orders set is active: #1, buckets 1-2/);
    await expect(mover.abort()).resolves.toMatchObject({ state: 'aborted' });
    await expect(mover.abort()).rejects.toThrow('no active move');
    expect(await shards.shardSet().readMap()).toMatchObject({ version: 1, map: parseShardMap(SPEC, 3) });
  });
});

describe('online bucket moves of the read shards', () => {
  let shards: TestShards;
  afterEach(async () => shards?.drop());

  it('when read-shard buckets move to a shard on another server under the projection writing, then order_views and customer_orders are on the target, once each', async () => {
    shards = await createTestShards('reads', 3, SPEC);
    expect(shards.targets[1]!.port).not.toBe(shards.targets[0]!.port);
    const seeded = await seedOrders(shards, SPEC, [...MOVING, ...STILL], 40);
    const map = shards.liveMap('projection-1');
    await map.start();
    const writers = new OrderWriters(shards, map, { moving: MOVING, still: STILL });
    writers.adopt(seeded);
    writers.start(4);
    try {
      const move = await new BucketMover(shards.shardSet()).move({ range: { first: 40, last: 43 }, target: 1, batch: 30, soakMs: 500 });
      expect(move.state).toBe('done');
    } finally {
      await writers.stop();
      await map.stop();
    }
    expect(writers.errors).toEqual([]);
    const after = parseShardMap('0-39:0,40-43:1,44-511:0,512-1023:1', 3);
    expect(await checkAcknowledged(shards, writers, (bucket) => after.shardForBucket(bucket))).toEqual([]);
    for (const table of TABLES.reads) {
      expect(await rowsInBuckets(shards.pools[0]!, table.name, table.orderIdColumn, 40, 43)).toBe(0);
      expect(await rowsInBuckets(shards.pools[1]!, table.name, table.orderIdColumn, 40, 43)).toBeGreaterThan(0);
    }
  });
});
