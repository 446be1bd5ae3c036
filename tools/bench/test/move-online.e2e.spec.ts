import { call } from '@orderflow/chaos';
import { orderV1 } from '@orderflow/proto';
import { bucketOfOrderId, parseShardMap } from '@orderflow/sharding';
import type { RunningSystem } from '@orderflow/stack';
import type mysql from 'mysql2/promise';
import { customersWhere, formatSummary, inSpan, MoveLoad, placement, windowsEvery, type CreatedOrder, type LoadWindow } from '../src';
import {
  devToken,
  select,
  shardPools,
  shardsCommand,
  startStaleOrderCommand,
  startStaleOrderQuery,
  startSpareSystem,
  type ShardsRun,
  type StaleOrderCommand,
  type StaleOrderQuery,
} from './support';

/**
 * Issue 13, parts 4 and 5, end to end: the whole system on three MariaDB servers (the fifth order shard and
 * the fifth read shard on the third, holding no buckets), MoveLoad's REST clients placing (with an
 * Idempotency-Key), paying and cancelling, half of them customers of buckets 896-1023; those buckets move
 * from shard 3 to shard 4 with the mover CLI as a child process (SIGKILLed mid-copy, run again to the end),
 * then their read buckets; a second order-command that keeps the old map takes direct gRPC calls after the
 * switch. Then the checks of the issue, and the output (MoveLoad's windows, the mover's phases) is the record.
 */
describe('a bucket move under REST load, end to end (real services, three MariaDB servers, profile spare)', () => {
  const MOVING = { from: 896, to: 1023 };
  const BUCKETS = `${MOVING.from}-${MOVING.to}`;
  const [SOURCE, TARGET] = [3, 4];
  const FINAL_SPEC = '0-255:0,256-511:1,512-767:2,768-895:3,896-1023:4';
  const runId = `e2e${process.pid.toString(36)}`;
  const prefix = `move-${runId}-`;
  const products = [
    { id: `${prefix}a`, priceMinor: 250 },
    { id: `${prefix}b`, priceMinor: 475 },
  ];
  let spare: Awaited<ReturnType<typeof startSpareSystem>> | undefined;
  let system: RunningSystem | undefined;
  /** Two order-commands that keep the old map: one writes first after the switch, the other reads first. */
  let stale: StaleOrderCommand | undefined;
  let staleReader: StaleOrderCommand | undefined;
  /** An order-query that keeps the old read map: it projects its share of the events and answers listings. */
  let staleQuery: StaleOrderQuery | undefined;
  let load: MoveLoad | undefined;
  let orderShards: mysql.Pool[] = [];
  let readShards: mysql.Pool[] = [];
  /** Epoch ms of each stage, for MoveLoad's windows. */
  const at: Record<'orderMove' | 'switched' | 'readMove' | 'readSwitched' | 'end', number> = {
    orderMove: 0,
    switched: 0,
    readMove: 0,
    readSwitched: 0,
    end: 0,
  };
  /** Orders the stale order-command placed (they are checked with the load's). */
  const staleOrders: CreatedOrder[] = [];
  const staleCustomers = customersWhere(`${prefix}x`, 2, inSpan(MOVING));

  beforeAll(async () => {
    spare = await startSpareSystem(`moveonline${process.pid}`);
    system = spare.system;
    orderShards = shardPools(system.env.ORDER_SHARDS!);
    readShards = shardPools(system.env.READ_SHARDS!);
    [stale, staleReader, staleQuery] = await Promise.all([
      startStaleOrderCommand(system.env),
      startStaleOrderCommand(system.env),
      startStaleOrderQuery(system.env),
    ]);
  }, 240_000);

  afterAll(async () => {
    await load?.stop();
    await Promise.all([stale?.stop(), staleReader?.stop(), staleQuery?.stop()]);
    await Promise.all([...orderShards, ...readShards].map((pool) => pool.end()));
    await spare?.stop();
  }, 120_000);

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const shardsEnv = () => ({ ORDER_SHARDS: system!.env.ORDER_SHARDS!, READ_SHARDS: system!.env.READ_SHARDS! });
  const print = (title: string, lines: readonly string[]) => console.log(`${title}\n${lines.join('\n')}`);
  const storedMap = async (shard0: mysql.Pool) => {
    const [row] = await select<{ version: string; spec: string }>(shard0, 'SELECT CAST(version AS CHAR) AS version, spec FROM shard_map WHERE id = 1');
    return { version: Number(row!.version), spec: row!.spec };
  };
  const activeMove = async () => {
    const [row] = await select<{ state: string; progress: string }>(
      orderShards[0]!,
      `SELECT state, progress FROM shard_moves WHERE state NOT IN ('done', 'aborted')`,
    );
    return row && { state: row.state, progress: JSON.parse(row.progress) as { tables: Record<string, { copied: number; total: number; done: boolean }> } };
  };
  /** The shards of a set whose main table holds the order. */
  const shardsHolding = async (set: 'orders' | 'reads', orderId: string) => {
    const [pools, sql] =
      set === 'orders' ? [orderShards, 'SELECT id FROM orders WHERE id = ?'] : [readShards, 'SELECT order_id FROM order_views WHERE order_id = ?'];
    const found = await Promise.all(pools.map(async (pool) => (await select(pool, sql, [orderId])).length > 0));
    return found.flatMap((held, shard) => (held ? [shard] : []));
  };
  /** The place operation (key, body, customer's token) behind a 201, for a replay. */
  const placeOf = (orderId: string) =>
    load!.operations.find((op) => op.kind === 'place' && op.attempts.some((a) => a.status === 201 && a.orderId === orderId))!;
  const tokenOf = (customer: string) => load!.customers.find((c) => c.id === customer)?.token ?? devToken(customer);
  const placeStale = async (customerId: string, key = '') => {
    const { order, replayed } = await stale!.api.placeOrder({
      customerId,
      idempotencyKey: key,
      items: [{ productId: products[0]!.id, quantity: 1, unitPriceMinor: products[0]!.priceMinor }],
      address: 'Stale Street 1',
      paymentMethod: 'card',
    });
    if (!replayed) staleOrders.push({ orderId: order!.id, customer: customerId, bucket: bucketOfOrderId(order!.id), key });
    return { order: order!, replayed };
  };

  it('when the order buckets move under load and the mover is SIGKILLed mid-copy, then run again it resumes where it was and switches them to the fifth shard', async () => {
    load = await MoveLoad.start({ url: system!.gatewayUrl, token: devToken, clients: 8, moving: MOVING, runId });
    // The stale process takes its map now (version 1) and places orders of moving customers on the old shard.
    for (const customer of staleCustomers) for (let i = 0; i < 2; i++) await placeStale(customer, `${customer}-k${i}`);
    await sleep(8_000);

    at.orderMove = Date.now();
    const first = shardsCommand(
      ['move', '--buckets', BUCKETS, '--to', String(TARGET), '--batch', '5', '--soak', '1s', '--watch', 'http://127.0.0.1:1/metrics'],
      shardsEnv(),
    );
    // Killed once some rows of some table are copied and others are not (the cursor saved after each batch).
    let killedAt: Awaited<ReturnType<typeof activeMove>>;
    for (const deadline = Date.now() + 60_000; first.child.exitCode === null && Date.now() < deadline; await sleep(20)) {
      const move = await activeMove();
      const tables = Object.values(move?.progress.tables ?? {});
      if (move?.state === 'copying' && tables.some((t) => t.copied > 0) && tables.some((t) => !t.done)) {
        first.child.kill('SIGKILL');
        killedAt = move;
        break;
      }
    }
    const killed = await first.done;
    print('mover, first run (SIGKILLed mid-copy):', killed.lines);
    expect(killed.signal).toBe('SIGKILL');
    const left = await activeMove();
    expect(left?.state).toBe('copying');
    const copiedThen = Object.values(killedAt!.progress.tables).reduce((n, t) => n + t.copied, 0);
    expect(Object.values(left!.progress.tables).reduce((n, t) => n + t.copied, 0)).toBeGreaterThanOrEqual(copiedThen);
    expect(Object.values(left!.progress.tables).some((t) => !t.done)).toBe(true);
    expect(await storedMap(orderShards[0]!)).toEqual({ version: 1, spec: '0-255:0,256-511:1,512-767:2,768-1023:3' });

    // Run again (a larger batch: a resumed run takes the settings it is given), with the latency watch on order-command.
    const watch = `http://127.0.0.1:${system!.metricsPorts.orderCommand}/metrics`;
    const second: ShardsRun = await shardsCommand(
      ['move', '--buckets', BUCKETS, '--to', String(TARGET), '--batch', '200', '--soak', '1s', '--watch', watch],
      shardsEnv(),
    ).done;
    at.switched = Date.now();
    print('mover, second run (resumed):', second.lines);
    expect(second.code).toBe(0);
    expect(second.lines.some((line) => line.includes('resuming move') && line.includes('at "copying"'))).toBe(true);
    expect(second.lines.some((line) => line.startsWith(`move #`) && line.includes(`moved from shard ${SOURCE} to shard ${TARGET}`))).toBe(true);
    expect(await storedMap(orderShards[0]!)).toEqual({ version: 2, spec: FINAL_SPEC });
    expect(await activeMove()).toBeUndefined();
  }, 240_000);

  it('when a stale order-command writes to the moved buckets after the switch, then its writes are fenced on the old shard and land on the new one; its keys replay across the switch', async () => {
    const [customer] = staleCustomers as [string];
    const before = staleOrders.filter((o) => o.customer === customer);
    expect(await stale!.metric('orderflow_shard_map_version')).toBe(1); // it never polled: it routes with the old map
    const fencedBefore = await stale!.metric('orderflow_shard_fenced_writes_total');

    const placed = await placeStale(customer);
    expect(await stale!.metric('orderflow_shard_fenced_writes_total')).toBeGreaterThan(fencedBefore); // refused by shard 3's fence
    expect(await stale!.metric('orderflow_shard_map_version')).toBe(2); // and read the map again
    const replay = await placeStale(customer, before[0]!.key);
    expect({ replayed: replay.replayed, id: replay.order.id }).toEqual({ replayed: true, id: before[0]!.orderId });
    const paid = await stale!.api.payOrder({ orderId: before[1]!.orderId, actor: { customerId: customer, admin: false } });
    expect(paid.order?.status).toBe(orderV1.OrderStatus.ORDER_STATUS_PAID);

    expect(await shardsHolding('orders', placed.order.id)).toEqual([TARGET]);
    expect(await shardsHolding('orders', before[1]!.orderId)).toEqual([TARGET]); // the source's copy is cleaned up
    const [row] = await select<{ status: string }>(orderShards[TARGET]!, 'SELECT status FROM orders WHERE id = ?', [before[1]!.orderId]);
    expect(row?.status).toBe('PAID');
  }, 60_000);

  it('when a stale order-command reads a moved order after the cleanup, then it finds it on the new shard (not NOT_FOUND) and pays it there', async () => {
    const customer = staleCustomers[1]!;
    const [before] = staleOrders.filter((o) => o.customer === customer);
    expect(await staleReader!.metric('orderflow_shard_map_version')).toBe(1);
    expect(await shardsHolding('orders', before!.orderId)).toEqual([TARGET]); // nothing left on the shard its map names

    const read = await staleReader!.api.getOrder({ orderId: before!.orderId, actor: { customerId: customer, admin: false } });
    expect(read.order?.id).toBe(before!.orderId);
    expect(await staleReader!.metric('orderflow_shard_map_version')).toBe(2);
    const paid = await staleReader!.api.payOrder({ orderId: before!.orderId, actor: { customerId: customer, admin: false } });
    expect(paid.order?.status).toBe(orderV1.OrderStatus.ORDER_STATUS_PAID);
  }, 60_000);

  it('when the read buckets of the same range move under load, then the read map switches them to the fifth read shard, and the order-query with the old map is fenced there and takes the new one', async () => {
    expect(await staleQuery!.metric('orderflow_shard_map_version')).toBe(1);
    const fencedBefore = await staleQuery!.metric('orderflow_shard_fenced_writes_total');
    at.readMove = Date.now();
    const run = await shardsCommand(
      ['move', '--set', 'reads', '--buckets', BUCKETS, '--to', String(TARGET), '--batch', '200', '--soak', '1s', '--watch', 'http://127.0.0.1:1/metrics'],
      shardsEnv(),
    ).done;
    at.readSwitched = Date.now();
    print('mover, read buckets:', run.lines);
    expect(run.code).toBe(0);
    expect(await storedMap(readShards[0]!)).toEqual({ version: 2, spec: FINAL_SPEC });
    // The load goes on: the stale order-query projects its share of the moving customers' events, refused by shard 3's fence first.
    for (const deadline = Date.now() + 20_000; (await staleQuery!.metric('orderflow_shard_fenced_writes_total')) === fencedBefore && Date.now() < deadline;)
      await sleep(250);
    expect(await staleQuery!.metric('orderflow_shard_fenced_writes_total')).toBeGreaterThan(fencedBefore);
    expect(await staleQuery!.metric('orderflow_shard_map_version')).toBe(2);
    await sleep(2_000);
  }, 120_000);

  it('when the load stops, then no 5xx and no transport error over the run; every 201 is stored once, on the shard of its bucket; the read side, listings, replays and stock agree; verify finds no orphan', async () => {
    await load!.stop();
    at.end = Date.now();
    await load!.retryUnknown(Date.now() + 30_000);

    const windows: LoadWindow[] = [
      { name: 'before', from: load!.startedAt, to: at.orderMove },
      { name: 'orders', from: at.orderMove, to: at.switched },
      { name: 'between', from: at.switched, to: at.readMove },
      { name: 'reads', from: at.readMove, to: at.readSwitched },
      { name: 'after', from: at.readSwitched, to: at.end },
    ];
    const summaries = load!.summary(windows);
    print('MoveLoad by stage (orders/s of 201s, p50 and p99 of first attempts; moving = buckets 896-1023):', formatSummary(summaries));
    print('MoveLoad every 5 s:', formatSummary(load!.summary(windowsEvery(load!.startedAt, at.end, 5_000))));
    const [run] = load!.summary([{ name: 'run', from: load!.startedAt, to: at.end }]);
    print('MoveLoad, whole run:', formatSummary([run!]));
    const attempts = load!.operations.flatMap((op) => op.attempts);
    expect(attempts.filter((a) => (a.status ?? 0) >= 500 || a.error !== undefined).map((a) => a.status ?? a.error)).toEqual([]);
    expect(load!.operations.filter((op) => !op.attempts.some((a) => a.status !== undefined))).toEqual([]);
    expect(run!.moving.created).toBeGreaterThan(0);
    expect(run!.notMoving.created).toBeGreaterThan(0);
    for (const s of summaries.slice(0, 4)) expect(s.moving.requests).toBeGreaterThan(0); // the moving customers were served during each stage

    // Every 201 once, on the shard the final stored map gives its bucket, nowhere else; no order of the run's customers beyond them.
    const created = [...load!.created(), ...staleOrders];
    const finalOrders = parseShardMap((await storedMap(orderShards[0]!)).spec, orderShards.length);
    const stored = await Promise.all(
      orderShards.map((pool) =>
        select<{ id: string; customer_id: string; status: string; version: number }>(
          pool,
          'SELECT CAST(id AS CHAR) AS id, customer_id, status, version FROM orders WHERE customer_id LIKE ?',
          [`${prefix}%`],
        ),
      ),
    );
    const where = placement(
      created,
      (bucket) => finalOrders.shardForBucket(bucket),
      stored.map((rows) => new Set(rows.map((r) => r.id))),
    );
    expect({ missing: where.missing, elsewhere: where.elsewhere, onOwner: where.onOwner }).toEqual({ missing: [], elsewhere: [], onOwner: created.length });
    const visible = stored.flat().filter((o) => o.status !== 'PENDING' && o.status !== 'FAILED');
    expect(visible.map((o) => o.id).sort()).toEqual(created.map((o) => o.orderId).sort());
    expect(created.filter((o) => o.bucket >= MOVING.from).length).toBeGreaterThan(0);
    expect(stored[TARGET]!.length).toBe(created.filter((o) => o.bucket >= MOVING.from).length);
    // Each placement's 201s (first answer and retries) name one order.
    for (const op of load!.operations.filter((o) => o.kind === 'place'))
      expect(new Set(op.attempts.filter((a) => a.status === 201).map((a) => a.orderId)).size).toBeLessThanOrEqual(1);

    // The mover's own check: every row of every table of both sets on the shard that owns its bucket.
    const verify = await shardsCommand(['verify'], shardsEnv()).done;
    print('npm run shards -- verify:', verify.lines);
    expect(verify.code).toBe(0);
    expect(verify.lines.filter((line) => line === 'every row of every table lies on the shard that owns its bucket')).toHaveLength(2);

    // The read side: each order's view on the read shard of its bucket (final read map) at the order's version, on no other.
    const finalReads = parseShardMap((await storedMap(readShards[0]!)).spec, readShards.length);
    const version = new Map(visible.map((o) => [o.id, Number(o.version)]));
    let behind: string[] = [];
    for (const since = Date.now(); ; await sleep(500)) {
      const views = await Promise.all(
        readShards.map(
          async (pool) =>
            new Map(
              (
                await select<{ id: string; version: number }>(pool, 'SELECT CAST(order_id AS CHAR) AS id, version FROM order_views WHERE customer_id LIKE ?', [
                  `${prefix}%`,
                ])
              ).map((v) => [v.id, Number(v.version)]),
            ),
        ),
      );
      behind = [...version].filter(([id, v]) => views[finalReads.shardForBucket(bucketOfOrderId(id))]!.get(id) !== v).map(([id]) => id);
      const strays = views.flatMap((shard, i) => [...shard.keys()].filter((id) => finalReads.shardForBucket(bucketOfOrderId(id)) !== i));
      expect(strays).toEqual([]);
      if (behind.length === 0 || Date.now() - since > 60_000) break;
    }
    expect(behind).toEqual([]);

    // Each sampled customer's listing through the gateway: exactly their orders (moving, not moving, the stale process's).
    const customers = [...load!.customers.slice(0, 2), ...load!.customers.slice(-2)].map((c) => c.id).concat(staleCustomers[0]!);
    for (const customer of customers) {
      const listed: string[] = [];
      for (let token = ''; ;) {
        const answer = await call(system!.gatewayUrl, {
          method: 'GET',
          path: `/api/orders?page_size=100${token ? `&page_token=${encodeURIComponent(token)}` : ''}`,
          token: tokenOf(customer),
          timeoutMs: 10_000,
        });
        expect(answer.status).toBe(200);
        const page = answer.json as { orders: { id: string }[]; next_page_token: string };
        listed.push(...page.orders.map((o) => o.id));
        if (!page.next_page_token) break;
        token = page.next_page_token;
      }
      expect(listed.sort()).toEqual(
        visible
          .filter((o) => o.customer_id === customer)
          .map((o) => o.id)
          .sort(),
      );
    }

    // The stale order-query lists a moving customer's orders exactly too (on the read shard that holds them now).
    const mover = load!.customers[0]!.id;
    const listedByStale: string[] = [];
    for (let pageToken = ''; ;) {
      const page = await staleQuery!.api.listOrders({ customerId: mover, pageSize: 100, pageToken });
      listedByStale.push(...page.orders.map((o) => o.id));
      if (!page.nextPageToken) break;
      pageToken = page.nextPageToken;
    }
    expect(listedByStale.sort()).toEqual(
      visible
        .filter((o) => o.customer_id === mover)
        .map((o) => o.id)
        .sort(),
    );

    // Placements answered before the switch, sent again with their key and body now: the same order.
    const early = load!.created().filter((o) => placeOf(o.orderId).attempts[0]!.endedAt < at.orderMove);
    const sample = [...early.filter((o) => o.bucket >= MOVING.from).slice(0, 12), ...early.filter((o) => o.bucket < MOVING.from).slice(0, 4)];
    expect(sample.length).toBeGreaterThan(4);
    for (const order of sample) {
      const op = placeOf(order.orderId);
      const answer = await call(system!.gatewayUrl, {
        method: 'POST',
        path: '/api/orders',
        token: tokenOf(op.customer),
        body: op.body,
        idempotencyKey: op.key,
        timeoutMs: 10_000,
      });
      expect({ status: answer.status, id: answer.orderId }).toEqual({ status: 201, id: order.orderId });
    }

    // Stock, exactly: per product, reserved = units of RESERVED orders, sold = units of PAID or SHIPPED ones, available + reserved + sold = received.
    const inventory = shardPools(`${system!.env.INVENTORY_MYSQL_HOST}:${system!.env.INVENTORY_MYSQL_PORT}/${system!.env.INVENTORY_MYSQL_DATABASE}`)[0]!;
    try {
      let figures: unknown[] = [];
      for (const since = Date.now(); ; await sleep(500)) {
        const held = new Map<string, { reserved: number; sold: number }>();
        for (const pool of orderShards) {
          for (const row of await select<{ product_id: string; status: string; units: string }>(
            pool,
            `SELECT i.product_id, o.status, SUM(i.quantity) AS units FROM order_items i JOIN orders o ON o.id = i.order_id
             WHERE o.customer_id LIKE ? AND o.status IN ('RESERVED', 'PAID', 'SHIPPED') GROUP BY i.product_id, o.status`,
            [`${prefix}%`],
          )) {
            const h = held.get(row.product_id) ?? { reserved: 0, sold: 0 };
            if (row.status === 'RESERVED') h.reserved += Number(row.units);
            else h.sold += Number(row.units);
            held.set(row.product_id, h);
          }
        }
        const rows = await select<{ id: string; available: number; reserved: number; sold: number; received: number }>(
          inventory,
          'SELECT id, available, reserved, sold, received FROM products WHERE id IN (?) ORDER BY id',
          [products.map((p) => p.id)],
        );
        figures = rows.map((p) => ({
          id: p.id,
          balanced: Number(p.available) + Number(p.reserved) + Number(p.sold) === Number(p.received),
          reserved: [Number(p.reserved), held.get(p.id)?.reserved ?? 0],
          sold: [Number(p.sold), held.get(p.id)?.sold ?? 0],
        }));
        const exact = (f: { balanced: boolean; reserved: number[]; sold: number[] }) =>
          f.balanced && f.reserved[0] === f.reserved[1] && f.sold[0] === f.sold[1];
        if ((figures as Parameters<typeof exact>[0][]).every(exact) || Date.now() - since > 60_000) break;
      }
      const expected = (figures as { id: string; reserved: number[]; sold: number[] }[]).map((f) => ({
        ...f,
        balanced: true,
        reserved: [f.reserved[1], f.reserved[1]],
        sold: [f.sold[1], f.sold[1]],
      }));
      expect(figures).toHaveLength(2);
      expect(figures).toEqual(expected);
    } finally {
      await inventory.end();
    }
  }, 240_000);
});
