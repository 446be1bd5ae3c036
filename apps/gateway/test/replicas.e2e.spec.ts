import { createSequelize } from '@orderflow/database';
import { isAlive, type SystemPorts } from '@orderflow/stack';
import { QueryTypes, Sequelize } from 'sequelize';
import { eventually, startTestSystem, TestSystem } from './support';

/**
 * With two replicas of every service (`startSystem({ replicas: 2 })`, what `npm start -- --replicas 2`
 * runs), one replica killed with SIGKILL under load costs REST clients nothing: callers spread calls
 * over the replicas and repeat a cut-off call on the other one (placements under the client's key or
 * the gateway's own). Real processes, real servers.
 */
describe('two replicas of every service: kill -9 of one under load (real processes and servers)', () => {
  let t: TestSystem;
  let admin: string;
  const CUSTOMERS = 8;

  beforeAll(async () => {
    t = await startTestSystem({ PAYMENT_WINDOW_MS: '600000' }, { replicas: 2 });
    admin = t.token('rep-admin', { admin: true });
    // A product per customer: this is about failover, not one hot product's lock (the flash-sale tests' subject).
    for (let c = 0; c < CUSTOMERS; c++)
      expect((await t.http('PUT', `/api/products/rep-p${c}`, { token: admin, body: { name: 'Replicated', price: 3, stock: 1_000_000 } })).status).toBe(201);
  }, 240_000);
  afterAll(async () => {
    await t?.stop();
  });
  const placedIds = new Set<string>();

  const order = (c: number) => ({ items: [{ product_id: `rep-p${c}`, quantity: 1, unit_price: 3 }], address: 'A', payment_method: 'card' });

  /** Clients placing (without a key, as the seed's clients do), paying and reading orders until `stop` resolves. */
  async function load(until: Promise<unknown>) {
    const outcomes = { requests: 0, failures: [] as string[], placed: [] as { id: string; customer: string }[] };
    let running = true;
    void until.finally(() => (running = false));
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      outcomes.requests++;
      try {
        const answer = await t.http(method, path, { token, body });
        if (answer.status >= 500) outcomes.failures.push(`${method} ${path}: ${answer.status} ${answer.body?.type ?? ''}`);
        return answer;
      } catch (error) {
        outcomes.failures.push(`${method} ${path}: ${(error as Error).message}`);
        return undefined;
      }
    };
    await Promise.all(
      Array.from({ length: CUSTOMERS }, async (_, c) => {
        const customer = `rep-c${c}`;
        const token = t.token(customer);
        for (let i = 0; running; i++) {
          const placed = await call('POST', '/api/orders', token, order(c));
          if (placed?.status !== 201) continue;
          outcomes.placed.push({ id: placed.body.id, customer });
          placedIds.add(placed.body.id);
          if (i % 3 === 0) await call('POST', `/api/orders/${placed.body.id}/pay`, token);
          await call('GET', `/api/orders/${placed.body.id}`, token);
        }
      }),
    );
    return outcomes;
  }

  const killOne = async (service: keyof SystemPorts) => {
    const before = t.system.pid(service, 1)!;
    expect(before).toBeDefined();
    process.kill(before, 'SIGKILL');
    // Supervision starts another; the fault window lasts until it serves again.
    await eventually(
      async () => {
        const now = t.system.pid(service, 1);
        return now !== undefined && now !== before ? now : undefined;
      },
      60_000,
      `${service} replica 1 back`,
    );
  };

  it('when /metrics is scraped on the shared port, then every scrape reports all the workers: the orders placed through either', async () => {
    const token = t.token('rep-metrics');
    for (let i = 0; i < 10; i++) expect((await t.http('POST', '/api/orders', { token, body: order(0) })).status).toBe(201);
    const placed = async () => {
      // A new connection each time: the primary hands connections to the workers in turn.
      const text = await (await fetch(`${t.url}/metrics`, { headers: { connection: 'close' } })).text();
      return Number(/^orderflow_orders_placed_total (\d+)/m.exec(text)?.[1]);
    };
    const scrapes = [await placed(), await placed(), await placed(), await placed()];
    expect(scrapes).toEqual([10, 10, 10, 10]);
  });

  it.each<keyof SystemPorts>(['orderCommand', 'inventory', 'orderQuery', 'orderRelay'])(
    'when one replica of %s is killed with SIGKILL under load, then no request fails and every order placed is readable',
    async (service) => {
      let done!: () => void;
      const window = new Promise<void>((resolve) => (done = resolve));
      const running = load(window);
      await new Promise((r) => setTimeout(r, 1_500));
      await killOne(service);
      await new Promise((r) => setTimeout(r, 3_000)); // the replica back in service, under load
      done();
      const outcomes = await running;
      expect(outcomes.failures).toEqual([]);
      expect(outcomes.placed.length).toBeGreaterThan(0);
      for (const { id, customer } of outcomes.placed.slice(-20))
        expect((await t.http('GET', `/api/orders/${id}`, { token: t.token(customer) })).status).toBe(200);
    },
    120_000,
  );

  it('when a gateway worker is stopped with SIGTERM under load, then it drains: no request fails, and another worker is forked', async () => {
    let done!: () => void;
    const window = new Promise<void>((resolve) => (done = resolve));
    const running = load(window);
    await new Promise((r) => setTimeout(r, 1_000));
    const before = t.system.pid('gateway', 0)!;
    process.kill(before, 'SIGTERM');
    // It drains within DRAIN_IDLE_MS and the in-flight requests, not the 25 s shutdown limit.
    await eventually(async () => (isAlive(before) ? undefined : true), 6_000, 'the stopped worker gone');
    await eventually(
      async () => (t.system.processes().filter((p) => p.service === 'gateway').length === 2 && t.system.pid('gateway', 0) !== before ? true : undefined),
      60_000,
      'a new gateway worker',
    );
    done();
    const outcomes = await running;
    expect(outcomes.failures).toEqual([]);
  }, 120_000);

  it('when the faults are over, then every outbox row was published and the read side holds every order at its command-side version (relays and sweepers survived kill -9)', async () => {
    const connect = (spec: string): Sequelize => {
      const [, host, port, database] = /^([^:]+):(\d+)\/(.+)$/.exec(spec)!;
      return createSequelize({ host: host!, port: Number(port), user: 'orderflow', password: 'orderflow', database: database! }, { max: 1 });
    };
    const orderShards = t.env.ORDER_SHARDS!.split(',').map(connect);
    const readShards = t.env.READ_SHARDS!.split(',').map(connect);
    try {
      const all = async <T extends object>(shards: Sequelize[], sql: string) =>
        (await Promise.all(shards.map((db) => db.query<T>(sql, { type: QueryTypes.SELECT })))).flat();
      await eventually(
        async () =>
          (await all<{ n: number }>(orderShards, 'SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL')).every((r) => Number(r.n) === 0) ? true : undefined,
        30_000,
        'every outbox row sent',
      );
      const commandSide = new Map(
        (
          await all<{ id: string; version: number }>(
            orderShards,
            "SELECT CAST(id AS CHAR) AS id, version FROM orders WHERE status <> 'FAILED' AND status <> 'PENDING'",
          )
        ).map((r) => [r.id, Number(r.version)]),
      );
      expect([...placedIds].filter((id) => !commandSide.has(id))).toEqual([]);
      await eventually(
        async () => {
          const views = new Map(
            (await all<{ id: string; version: number }>(readShards, 'SELECT CAST(order_id AS CHAR) AS id, version FROM order_views')).map((r) => [
              r.id,
              Number(r.version),
            ]),
          );
          return [...commandSide].every(([id, version]) => views.get(id) === version) ? true : undefined;
        },
        // Events a killed order-query process had pulled come back after ack_wait (30 s); a later event of
        // the same order meanwhile waits its turn with a growing redelivery delay: about a minute in all.
        90_000,
        "the read side at every order's version",
      );
    } finally {
      await Promise.all([...orderShards, ...readShards].map((db) => db.close()));
    }
  }, 150_000);
});
