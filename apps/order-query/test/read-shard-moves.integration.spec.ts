import { bucketForCustomer, parseShardMap, ShardRouter } from '@orderflow/sharding';
import type { Msg } from 'nats';
import { actor, orderHistory, orderQueryRun, ReadShards, sleep, waitFor } from './support';

/** A spec listing each bucket's shard, in the compact form (FROM-TO:SHARD,...). */
function specOf(shardByBucket: number[]): string {
  const ranges: string[] = [];
  let from = 0;
  for (let bucket = 1; bucket <= shardByBucket.length; bucket++) {
    if (bucket === shardByBucket.length || shardByBucket[bucket] !== shardByBucket[from]) {
      ranges.push(`${from === bucket - 1 ? from : `${from}-${bucket - 1}`}:${shardByBucket[from]}`);
      from = bucket;
    }
  }
  return ranges.join(',');
}

describe('order-query while buckets move between read shards (ADR 0009; real MariaDB x2 and NATS JetStream)', () => {
  let shards: ReadShards;
  let deadLetters: Msg[];
  // A stale process: it reads the map at start and then only when a fence refuses it (the test's moves are
  // made by hand, with SQL). A projection waits at most 400 ms for a switch before its event is NAKed.
  const run = orderQueryRun({ READ_SHARD_MAP_POLL_MS: '600000', READ_SHARD_MOVE_MAX_WAIT_MS: '400', REDELIVERY_DELAY_MS: '100' });

  beforeAll(() => {
    deadLetters = run.feed.deadLetters();
    shards = new ReadShards(run.config);
  });
  afterAll(() => shards?.close());

  const db = (shard: number) => shards.dbs[shard]!;
  const exec = (shard: number, sql: string, replacements: Record<string, unknown> = {}) => db(shard).query(sql, { replacements });
  const storedMap = async () => {
    const [rows] = (await exec(0, 'SELECT CAST(version AS CHAR) AS version, spec FROM shard_map WHERE id = 1')) as [
      { version: string; spec: string }[],
      unknown,
    ];
    return { version: Number(rows[0]!.version), router: new ShardRouter(parseShardMap(rows[0]!.spec, 4)) };
  };
  /** A shard on the same MariaDB server as `shard` (shards alternate between the two servers), so rows copy in one statement. */
  const sibling = (shard: number) => (shard + 2) % 4;
  const metric = async (name: string) => (await run.oq.app.metrics.getSingleMetric(name)!.get()).values[0]?.value;

  const viewsOf = async (orderId: string) =>
    (
      await shards.rows<{ version: number; status: string }>('SELECT version, status FROM order_views WHERE order_id = CAST(:id AS UNSIGNED)', { id: orderId })
    ).map((rows) => rows.map((row) => Number(row.version)));
  const listingsOf = async (orderId: string) =>
    (await shards.rows<{ version: number }>('SELECT version FROM customer_orders WHERE order_id = CAST(:id AS UNSIGNED)', { id: orderId })).map((rows) =>
      rows.map((row) => Number(row.version)),
    );
  /** Versions of the order's view on each read shard: [] where it has none. */
  const onlyOn = (shard: number, version: number) => [0, 1, 2, 3].map((s) => (s === shard ? [version] : []));

  /** The copy a move makes before it fences (done here in one go): the bucket's views and listing rows, source to target. */
  async function copyBucket(bucket: number, from: number, to: number): Promise<void> {
    const source = run.config.shards[from]!.database;
    for (const table of ['order_views', 'customer_orders']) {
      await exec(to, `DELETE FROM ${table} WHERE ((order_id >> 12) & 1023) = :bucket`, { bucket });
      await exec(to, `INSERT INTO ${table} SELECT * FROM \`${source}\`.${table} WHERE ((order_id >> 12) & 1023) = :bucket`, { bucket });
    }
  }

  /** A move's fence on the source (a lease of `leaseMs`). */
  const fence = (bucket: number, shard: number, leaseMs: number) =>
    exec(shard, `UPDATE shard_buckets SET state = 'FENCED', fenced_until = NOW(3) + INTERVAL :us MICROSECOND WHERE bucket = :bucket`, {
      bucket,
      us: leaseMs * 1000,
    });

  /** A move's switch, as ADR 0009 orders it: the source MOVED, the target OWNED, then the map at the next version. */
  async function switchBucket(bucket: number, from: number, to: number): Promise<number> {
    const { version, router } = await storedMap();
    const next = version + 1;
    const shardByBucket = Array.from({ length: 1024 }, (_, b) => (b === bucket ? to : router.shardForBucket(b)));
    await exec(from, `UPDATE shard_buckets SET state = 'MOVED', epoch = :next, fenced_until = NULL WHERE bucket = :bucket`, { bucket, next });
    await exec(to, `INSERT INTO shard_buckets (bucket, epoch, state, updated_at) VALUES (:bucket, :next, 'OWNED', NOW(3))`, { bucket, next });
    await exec(0, 'UPDATE shard_map SET version = :next, spec = :spec, updated_at = NOW(3) WHERE id = 1 AND version = :version', {
      next,
      version,
      spec: specOf(shardByBucket),
    });
    return next;
  }

  it('when order-query starts on empty read shards, then it stores its map as version 1 and gives each read shard its buckets', async () => {
    const { version, router } = await storedMap();
    expect(version).toBeGreaterThanOrEqual(1);
    const owned = await shards.rows<{ bucket: number }>("SELECT bucket FROM shard_buckets WHERE state = 'OWNED'");
    expect(owned.map((rows) => rows.length)).toEqual([256, 256, 256, 256]);
    expect(owned.every((rows, shard) => rows.every((row) => router.shardForBucket(Number(row.bucket)) === shard))).toBe(true);
    const [watchers] = (await exec(0, 'SELECT instance, version FROM shard_map_watchers')) as [{ instance: string }[], unknown];
    expect(watchers.map((w) => w.instance)).toEqual([expect.stringMatching(/^order-query@.+:\d+:[0-9a-f]{8}$/)]);
  });

  it('when a bucket was switched to another read shard behind a stale process, then its next event is fenced on the old shard, re-routed, and lands on the new one, where reads then go', async () => {
    const customer = 'mover-anna';
    const bucket = bucketForCustomer(customer);
    const [placed, paid, shipped] = orderHistory(customer, ['placed', 'paid', 'shipped']);
    const orderId = placed!.orderId;
    await run.feed.publish(placed!);
    const from = run.oq.app.store.shardOf(orderId);
    await waitFor(async () => JSON.stringify(await viewsOf(orderId)) === JSON.stringify(onlyOn(from, 1)), 'version 1 on the first shard');
    const to = sibling(from);
    const fencedBefore = (await metric('orderflow_shard_fenced_writes_total')) ?? 0;
    const versionBefore = run.oq.app.shardMap.current.version;

    await copyBucket(bucket, from, to);
    const next = await switchBucket(bucket, from, to);
    // Stale: the process still routes by the map it read at start.
    expect(run.oq.app.shardMap.current.version).toBe(versionBefore);
    expect(run.oq.app.store.shardOf(orderId)).toBe(from);

    await run.feed.publish(paid!);
    await waitFor(async () => (await viewsOf(orderId))[to]![0] === 2, 'version 2 on the new shard');
    // The source keeps what it had at the switch (a move's clean-up deletes it after the soak); nothing was written there.
    expect(await viewsOf(orderId)).toEqual([0, 1, 2, 3].map((s) => (s === to ? [2] : s === from ? [1] : [])));
    expect((await listingsOf(orderId))[to]).toEqual([2]);
    expect(run.oq.app.shardMap.current.version).toBe(next);
    expect(await metric('orderflow_shard_map_version')).toBe(next);
    expect(await metric('orderflow_shard_fenced_writes_total')).toBeGreaterThan(fencedBefore);

    // Reads follow the map: the new shard's version 2 (the source still holds version 1).
    const { order } = await run.oq.api.getOrder({ orderId, actor: actor(customer) });
    expect(order).toMatchObject({ id: orderId, version: 2 });
    const listed = await run.oq.api.listOrders({ customerId: customer, pageSize: 10 });
    expect(listed.orders.map((o) => [o.id, o.version])).toEqual([[orderId, 2]]);
    // The admin listing walks every shard, but only the buckets each holds: the order once, from its new shard.
    const all = await run.oq.api.listAllOrders({ actor: actor('ops-1', true), pageSize: 100 });
    expect(all.orders.filter((o) => o.id === orderId).map((o) => o.version)).toEqual([2]);

    await run.feed.publish(shipped!);
    await waitFor(async () => (await viewsOf(orderId))[to]![0] === 3, 'version 3 on the new shard, no longer fenced');
    expect(deadLetters).toHaveLength(0);
  });

  it('when a bucket was switched behind a stale process and another process projected its next event, then GetOrder and ListOrders still answer from the new shard', async () => {
    const customer = 'mover-cleo';
    const bucket = bucketForCustomer(customer);
    const [placed] = orderHistory(customer, ['placed']);
    const orderId = placed!.orderId;
    await run.feed.publish(placed!);
    const from = run.oq.app.store.shardOf(orderId);
    await waitFor(async () => JSON.stringify(await viewsOf(orderId)) === JSON.stringify(onlyOn(from, 1)), 'version 1 on the first shard');
    const to = sibling(from);
    const before = run.oq.app.shardMap.current.version;

    await copyBucket(bucket, from, to);
    const next = await switchBucket(bucket, from, to);
    // What a fresher replica projects on the new shard (version 2, PAID); this process has not polled since.
    await exec(to, "UPDATE order_views SET version = 2, status = 'PAID' WHERE order_id = CAST(:id AS UNSIGNED)", { id: orderId });
    await exec(to, "UPDATE customer_orders SET version = 2, status = 'PAID' WHERE order_id = CAST(:id AS UNSIGNED)", { id: orderId });
    expect(run.oq.app.shardMap.current.version).toBe(before);

    // The old shard no longer holds the bucket: the read takes the new map and reads the new shard, in the same call.
    const { order } = await run.oq.api.getOrder({ orderId, actor: actor(customer) });
    expect(order).toMatchObject({ id: orderId, version: 2 });
    expect(run.oq.app.shardMap.current.version).toBe(next);
    const listed = await run.oq.api.listOrders({ customerId: customer, pageSize: 10 });
    expect(listed.orders.map((o) => [o.id, o.version])).toEqual([[orderId, 2]]);
  });

  it('when an event comes while its bucket is fenced for a switch, then it waits (NAKed, not dead-lettered) and is applied on the new shard after the switch', async () => {
    const customer = 'mover-bert';
    const bucket = bucketForCustomer(customer);
    const [placed, paid] = orderHistory(customer, ['placed', 'paid']);
    const orderId = placed!.orderId;
    // Another customer on another bucket of the same shard: not moving, so never held back.
    const from = run.oq.app.store.shardOf(orderId);
    let bystander = 'bystander-0';
    for (let i = 1; run.oq.app.store.shardOf(orderHistory(bystander)[0]!.orderId) !== from || bucketForCustomer(bystander) === bucket; i++)
      bystander = `bystander-${i}`;
    const [other] = orderHistory(bystander, ['placed']);

    await run.feed.publish(placed!);
    await waitFor(async () => JSON.stringify(await viewsOf(orderId)) === JSON.stringify(onlyOn(from, 1)), 'version 1 on the first shard');
    const to = sibling(from);
    const fencedBefore = (await metric('orderflow_shard_fenced_writes_total')) ?? 0;

    await fence(bucket, from, 30_000);
    await copyBucket(bucket, from, to);
    await run.feed.publish(paid!);
    await run.feed.publish(other!);
    // The bystander is projected at once; the fenced event is refused, waits 400 ms, is NAKed and comes back.
    await waitFor(async () => (await viewsOf(other!.orderId))[from]![0] === 1, "the bystander's order projected");
    await waitFor(async () => ((await metric('orderflow_shard_fenced_writes_total')) ?? 0) > fencedBefore + 10, 'the fenced event refused again and again');
    await sleep(600);
    expect(await viewsOf(orderId)).toEqual([0, 1, 2, 3].map((s) => (s === from || s === to ? [1] : [])));
    const consumer = await (await run.feed.nc.jetstreamManager()).consumers.info(run.config.nats.stream, run.config.nats.consumer);
    expect(consumer.num_redelivered).toBeGreaterThan(0);

    await switchBucket(bucket, from, to);
    await waitFor(async () => (await viewsOf(orderId))[to]![0] === 2, 'version 2 on the new shard after the switch');
    expect((await viewsOf(orderId))[from]).toEqual([1]);
    const { order } = await run.oq.api.getOrder({ orderId, actor: actor(customer) });
    expect(order).toMatchObject({ id: orderId, version: 2 });
    expect(deadLetters).toHaveLength(0);
  });
});
