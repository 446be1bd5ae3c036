import mysql from 'mysql2/promise';
import type { RunningSystem } from '@orderflow/stack';
import { MoveLoad, WindowSummary } from '../src';
import { devToken, entry, startSpareSystem } from './support';

/**
 * The harness of bucket moves: the whole system started on three MariaDB servers (`startSystem`'s
 * `mariadb: 3`, on the `spare` profile so the shared test stack is untouched), and MoveLoad's clients
 * against it. No move happens here: this is the baseline every move test starts from.
 */
describe('the system on three MariaDB servers under MoveLoad (real services and servers, profile spare)', () => {
  let spare: Awaited<ReturnType<typeof startSpareSystem>> | undefined;
  let system: RunningSystem | undefined;

  beforeAll(async () => {
    spare = await startSpareSystem(`moveload${process.pid}`);
    system = spare.system;
  }, 240_000);

  afterAll(async () => {
    await spare?.stop();
  }, 120_000);

  /** The ids of `ids` found in the orders table of each order shard. */
  async function ordersPerShard(ids: string[]): Promise<string[][]> {
    return Promise.all(
      system!.env.ORDER_SHARDS!.split(',').map(async (shard) => {
        const connection = await mysql.createConnection({ ...entry(shard), user: 'orderflow', password: 'orderflow' });
        try {
          const [rows] = await connection.query('SELECT CAST(id AS CHAR) AS id FROM orders WHERE id IN (?)', [ids]);
          return (rows as { id: string }[]).map((r) => r.id);
        } finally {
          await connection.end();
        }
      }),
    );
  }

  it('when started with mariadb 3, then each set has a fifth shard on the third server, migrated, empty and holding no bucket: the live map (version 1) names only the first four', async () => {
    for (const [list, map, table] of [
      ['ORDER_SHARDS', 'ORDER_SHARD_MAP', 'orders'],
      ['READ_SHARDS', 'READ_SHARD_MAP', 'order_views'],
    ] as const) {
      const shards = system!.env[list]!.split(',').map(entry);
      expect(shards.map((s) => s.port)).toEqual([19_306, 19_307, 19_306, 19_307, 19_308]);
      expect(system!.env[map]).toBe('0-255:0,256-511:1,512-767:2,768-1023:3');
      // Migrated by its service at start (the table exists), empty, and holding no bucket of the live map.
      const fifth = await mysql.createConnection({ ...shards[4]!, user: 'orderflow', password: 'orderflow' });
      const first = await mysql.createConnection({ ...shards[0]!, user: 'orderflow', password: 'orderflow' });
      try {
        const [rows] = await fifth.query(`SELECT COUNT(*) AS n FROM ${table}`);
        expect(Number((rows as { n: number }[])[0]!.n)).toBe(0);
        const [held] = await fifth.query('SELECT COUNT(*) AS n FROM shard_buckets');
        expect(Number((held as { n: number }[])[0]!.n)).toBe(0);
        // The stored map (ADR 0009: version 1, written from the pinned configuration) gives the fifth shard nothing.
        const [map] = await first.query('SELECT CAST(version AS CHAR) AS version, spec FROM shard_map WHERE id = 1');
        expect(map).toEqual([{ version: '1', spec: '0-255:0,256-511:1,512-767:2,768-1023:3' }]);
      } finally {
        await Promise.all([fifth.end(), first.end()]);
      }
    }
  });

  it('when clients place, pay and cancel for a few seconds, then every 201 is stored exactly once on the shard of its bucket, none on the fifth, with no 5xx, and the summary counts them by bucket class', async () => {
    // Buckets 0-255 are shard 0's: half the clients are its customers, as if that range were moving.
    const load = await MoveLoad.start({ url: system!.gatewayUrl, token: devToken, clients: 6, moving: { from: 0, to: 255 } });
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    await load.stop();
    await load.retryUnknown(Date.now() + 30_000);
    const end = Date.now();

    const created = load.created();
    expect(created.length).toBeGreaterThan(0);
    const moving = created.filter((o) => o.bucket <= 255).map((o) => o.orderId);
    expect(moving.length).toBeGreaterThan(0);
    expect(moving.length).toBeLessThan(created.length);
    const found = await ordersPerShard(created.map((o) => o.orderId));
    // Every 201 exactly once across the shards; the moving customers' orders all on shard 0, none on the fifth.
    expect(found.flat().sort()).toEqual(created.map((o) => o.orderId).sort());
    expect(found[0]!.sort()).toEqual([...moving].sort());
    expect(found[4]).toEqual([]);

    const [all] = load.summary([{ name: 'run', from: load.startedAt, to: end }]) as [WindowSummary];
    const firstTries201 = load.samples().filter((s) => s.kind === 'place' && s.status === 201);
    expect(all.moving.created + all.notMoving.created).toBe(firstTries201.length);
    expect(all.moving.created).toBe(firstTries201.filter((s) => s.bucket <= 255).length);
    expect(all.all.server5xx).toBe(0);
    expect(all.moving.requests).toBeGreaterThan(0);
    expect(all.notMoving.requests).toBeGreaterThan(0);
  }, 90_000);
});
