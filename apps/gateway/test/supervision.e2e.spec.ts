import { isAlive, type SupervisorEvent, type SystemPorts } from '@orderflow/stack';
import { eventually, startTestSystem, TestSystem } from './support';

/**
 * startSystem supervises the five service processes (what `npm start` relies on, issue 11): real
 * processes killed with SIGKILL, real servers behind them.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a killed service process is restarted (all four services, real servers)', () => {
  let t: TestSystem;
  let stopped = false;
  const events: SupervisorEvent[] = [];
  let admin: string;
  // A 2 s first delay, so the gap is long enough to watch /readyz during it.
  beforeAll(async () => {
    t = await startTestSystem({ PAYMENT_WINDOW_MS: '600000' }, { supervision: { policy: { backoffBaseMs: 2_000 }, onEvent: (e) => events.push(e) } });
    admin = t.token('sup-admin', { admin: true });
    expect((await t.http('PUT', '/api/products/sup-p', { token: admin, body: { name: 'Supervised', price: 2, stock: 1_000 } })).status).toBe(201);
  }, 180_000);
  afterAll(async () => {
    if (!stopped) await t?.stop();
  });

  const order = { items: [{ product_id: 'sup-p', quantity: 1, unit_price: 2 }], address: 'A', payment_method: 'card' };
  const readyz = () =>
    fetch(`${t.url}/readyz`).then(
      async (r) => ({ status: r.status, body: (await r.json()) as { checks?: Record<string, string> } }),
      () => undefined,
    );
  const restartedAgain = (name: keyof SystemPorts, restart: number) =>
    eventually(async () => events.find((e) => e.kind === 'restarted' && e.name === name && e.restart === restart), 90_000, `${name} restart ${restart}`);

  it('when inventory is killed with SIGKILL, then /readyz answers 503 naming it, the supervisor restarts it, /readyz answers 200 again and orders can be placed again', async () => {
    const customer = t.token('sup-alice');
    expect((await t.http('POST', '/api/orders', { token: customer, body: order })).status).toBe(201);
    const before = t.system.pid('inventory')!;
    process.kill(before, 'SIGKILL');

    const down = await eventually(
      async () => {
        const r = await readyz();
        return r?.status === 503 ? r : undefined;
      },
      10_000,
      '/readyz 503',
    );
    expect(down.body.checks?.inventory).not.toBe('SERVING');

    await restartedAgain('inventory', 1);
    expect(events.find((e) => e.kind === 'crashed' && e.name === 'inventory')?.message).toBe(
      'supervisor: inventory died (signal SIGKILL); restart 1 in 2000 ms',
    );
    const after = t.system.pid('inventory');
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    await eventually(async () => ((await readyz())?.status === 200 ? true : undefined), 60_000, '/readyz 200');
    // order-command's channel to inventory reconnects on its next call; a 503 meanwhile is allowed, nothing else.
    const statuses: number[] = [];
    await eventually(
      async () => {
        const placed = await t.http('POST', '/api/orders', { token: customer, body: order });
        statuses.push(placed.status);
        return placed.status === 201 ? true : undefined;
      },
      30_000,
      'an order placed after the restart',
    );
    expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
  }, 180_000);

  it('when the gateway itself is killed, then it comes back on its port and answers /readyz 200', async () => {
    const before = t.system.pid('gateway')!;
    process.kill(before, 'SIGKILL');
    await restartedAgain('gateway', 1);
    expect(t.system.pid('gateway')).not.toBe(before);
    await eventually(async () => ((await readyz())?.status === 200 ? true : undefined), 30_000, '/readyz 200 from the new gateway');
    expect((await t.http('POST', '/api/orders', { token: t.token('sup-bob'), body: order })).status).toBe(201);
  }, 180_000);

  it('when a service is restarted on purpose and then the system is stopped, then the supervisor restarts nothing and no service process is left', async () => {
    const eventsBefore = events.length;
    await t.system.restart('orderQuery');
    const names: (keyof SystemPorts)[] = ['gateway', 'orderCommand', 'orderRelay', 'inventory', 'orderQuery'];
    const pids = names.map((name) => t.system.pid(name)!);
    expect(pids.every((pid) => pid > 0 && isAlive(pid))).toBe(true);
    stopped = true;
    await t.stop();
    // Longer than the 2 s backoff: a restart, had one been scheduled, would have run by now.
    await sleep(3_000);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(names.map((name) => t.system.pid(name))).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(events.slice(eventsBefore)).toEqual([]);
  }, 180_000);
});

describe('a service process in a crash loop (all four services, real servers)', () => {
  let t: TestSystem;
  const events: SupervisorEvent[] = [];
  beforeAll(async () => {
    t = await startTestSystem({}, { supervision: { policy: { backoffBaseMs: 200, crashLimit: 1, crashWindowMs: 60_000 }, onEvent: (e) => events.push(e) } });
  }, 180_000);
  afterAll(() => t?.stop());

  it('when the relay dies again in the window after its restart, then the supervisor gives up naming it and how it died, and restarts no more', async () => {
    const first = t.system.pid('orderRelay')!;
    process.kill(first, 'SIGKILL');
    await eventually(async () => events.find((e) => e.kind === 'restarted' && e.name === 'orderRelay'), 90_000, 'the relay restarted');
    const second = t.system.pid('orderRelay')!;
    expect(second).not.toBe(first);
    process.kill(second, 'SIGKILL');
    const gaveUp = await eventually(async () => events.find((e) => e.kind === 'gave-up'), 10_000, 'giving up');
    expect(gaveUp).toMatchObject({ name: 'orderRelay', how: 'signal SIGKILL', crashes: 2 });
    expect(gaveUp.message).toBe('supervisor: orderRelay crashed 2 times within 60 s (last: signal SIGKILL); a crash loop, giving up');
    await sleep(1_000);
    expect(t.system.pid('orderRelay')).toBeUndefined();
    expect(events.map((e) => e.kind)).toEqual(['crashed', 'restarted', 'gave-up']);
  }, 180_000);
});
