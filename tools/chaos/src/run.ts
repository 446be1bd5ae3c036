import { alertsOfWindow, Episode } from './alerts';
import {
  ApiReads,
  acknowledged,
  checkAcknowledgedNotLost,
  checkFaultCosts,
  checkKeysAndOrders,
  checkReadSide,
  checkRecovered,
  checkServedAtEnd,
  checkStock,
  checkUnknownsResolved,
  CheckResult,
  Snapshot,
  unsettled,
} from './checks';
import { call } from './client';
import { Fault, FaultUnit } from './faults';
import { definiteAnswer, FaultWindow, Operation, operationsOf, WindowStats, windowStats } from './ledger';
import { Customer, Product, RestLoad } from './load';
import { classify } from './outcome';
import { isAlive } from './proc-net';
import { adjustmentApplied, openDatabases, readSnapshot } from './snapshot';

/** The system under test, however it was started. */
export interface ChaosTarget {
  /** The gateway's base URL. */
  url: string;
  /** The services' environment (`systemEnv`): where the databases are. */
  env: Record<string, string>;
  /** The pid of the process a fault hits now (replica 0 of a service; the server's process). */
  pidOf(unit: FaultUnit): number | undefined;
  /**
   * Whether the unit's process `pid` serves again; typically: it listens on the unit's port (each
   * service binds its port last, once started; a server once it accepts clients).
   */
  serving(unit: FaultUnit, pid: number): boolean;
}

export interface ChaosOptions {
  target: ChaosTarget;
  faults: Fault[];
  /** Length of each fault window; the fault comes at its middle, and the window lasts at least until recovery. */
  secondsPerFault: number;
  clients: number;
  /** Mints a dev token (the gateway's HS256 secret). */
  token(customerId: string, options?: { admin?: boolean; ttlSeconds?: number }): string;
  log(line: string): void;
  /** The alert episodes seen so far (with --prometheus); read once the run settled. */
  alertEpisodes?: () => Promise<Episode[]>;
  /** host:port of each scraped instance -> the process's name, for the alerts' lines. */
  alertInstanceNames?: Record<string, string>;
  /** Processes of each service: what a service fault may cost (`faultAllowance`). */
  replicas: number;
  recoveryTimeoutMs?: number;
  retryTimeoutMs?: number;
  settleTimeoutMs?: number;
  /** How many placements answered at once are replayed at the end (besides every one that went unanswered). */
  replaySample?: number;
  /** Units of the scarce product at the start, and restocked at the start of each window. */
  scarceStock?: number;
  restock?: number;
}

export interface ChaosReport {
  runId: string;
  stats: WindowStats[];
  checks: CheckResult[];
  pass: boolean;
  operations: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const sleepUntil = (t: number) => sleep(Math.max(0, t - Date.now()));

async function readyz(url: string): Promise<boolean> {
  return fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) }).then(
    (r) => r.status === 200,
    () => false,
  );
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function eachLimited<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/**
 * A chaos run: REST load, and for each fault a window in which the fault hits at mid-window and
 * supervision brings the unit back; then the window's unknown answers are retried with the same key and
 * body until definite. At the end, once everything settled, the invariants are checked against the
 * databases and the API.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const { target, log } = options;
  const url = target.url;
  const runId = Date.now().toString(36);
  const prefix = `chaos-${runId}-`;
  const admin = options.token(`${prefix}admin`, { admin: true, ttlSeconds: 6 * 3600 });
  const customers: Customer[] = Array.from({ length: options.clients }, (_, i) => ({
    id: `${prefix}c${i}`,
    token: options.token(`${prefix}c${i}`, { ttlSeconds: 6 * 3600 }),
  }));
  const scarce = options.scarceStock ?? 40;
  const catalog = [
    { id: `${prefix}scarce`, price: 4.75, stock: scarce },
    { id: `${prefix}a`, price: 2.5, stock: 1_000_000 },
    { id: `${prefix}b`, price: 3, stock: 1_000_000 },
    { id: `${prefix}c`, price: 1.2, stock: 1_000_000 },
  ];
  const stockAdded = new Map<string, number>();
  const uncertainRestocks: { product: string; reason: string; delta: number }[] = [];

  // The catalog, while everything is up: each PUT is retried until definite (PUT is idempotent).
  for (const p of catalog) {
    for (let tries = 0; ; tries++) {
      const a = await call(url, {
        method: 'PUT',
        path: `/api/products/${p.id}`,
        token: admin,
        body: { name: `Chaos ${p.id}`, price: p.price, stock: p.stock },
        timeoutMs: 10_000,
      });
      if (a.status === 200 || a.status === 201) break;
      if (classify(a) === 'definite' || tries > 20) throw new Error(`PUT /api/products/${p.id}: ${a.status ?? a.error}`);
      await sleep(500);
    }
    stockAdded.set(p.id, p.stock);
  }
  log(`run ${runId}: ${customers.length} clients, products ${catalog.map((p) => `${p.id} (stock ${p.stock})`).join(', ')}`);

  const products: Product[] = catalog.map(({ id, price }) => ({ id, price }));
  const load = new RestLoad({ url, customers, products, keyPrefix: runId });
  const windows: FaultWindow[] = [];
  const windowMs = options.secondsPerFault * 1000;

  for (const [i, fault] of options.faults.entries()) {
    const startedAt = Date.now();
    const restock = options.restock ?? 20;
    const reason = `chaos ${runId} restock ${i}`;
    const added = await call(url, {
      method: 'POST',
      path: `/api/products/${prefix}scarce/stock`,
      token: admin,
      body: { delta: restock, reason },
      timeoutMs: 8_000,
    });
    if (added.status === 200 || added.status === 201) stockAdded.set(`${prefix}scarce`, stockAdded.get(`${prefix}scarce`)! + restock);
    else if (classify(added) === 'unknown') uncertainRestocks.push({ product: `${prefix}scarce`, reason, delta: restock });
    else log(`restock ${i} refused: ${added.status}`);
    load.start();
    await sleepUntil(startedAt + windowMs / 2);

    const before = target.pidOf(fault.unit);
    const window: FaultWindow = { fault: fault.name, startedAt, faultAt: Date.now(), endedAt: 0 };
    windows.push(window);
    if (before === undefined) {
      log(`${fault.name}: no process found for ${fault.unit}; fault not injected`);
    } else {
      process.kill(before, fault.kind === 'kill' ? 'SIGKILL' : 'SIGTERM');
      window.faultAt = Date.now();
      const signal = fault.kind === 'kill' ? 'SIGKILL' : 'SIGTERM';
      log(`${fault.name}: ${signal} to pid ${before} at +${((window.faultAt - startedAt) / 1000).toFixed(1)} s of the window`);
      const until = window.faultAt + (options.recoveryTimeoutMs ?? 120_000);
      while (Date.now() < until) {
        const now = target.pidOf(fault.unit);
        const back = !isAlive(before) && now !== undefined && now !== before && target.serving(fault.unit, now);
        const created = load.operations.some((op) => op.kind === 'place' && op.attempts.some((a) => a.status === 201 && a.sentAt >= window.faultAt));
        if (back && created && (await readyz(url))) {
          window.recoveredAt = Date.now();
          log(`${fault.name}: back after ${((window.recoveredAt - window.faultAt) / 1000).toFixed(1)} s (pid ${now}), /readyz 200, orders placed again`);
          break;
        }
        await sleep(200);
      }
      if (window.recoveredAt === undefined) log(`${fault.name}: NOT recovered within ${(options.recoveryTimeoutMs ?? 120_000) / 1000} s`);
    }
    await sleepUntil(startedAt + windowMs);
    window.endedAt = Date.now();
    await load.pause();
    const mine = operationsOf(window, load.operations);
    const unknown = mine.filter((op) => !definiteAnswer(op)).length;
    await load.retryUnknown(mine, Date.now() + (options.retryTimeoutMs ?? 90_000));
    window.unknownAfterRetries = mine.filter((op) => !definiteAnswer(op)).length;
    const seconds = ((window.endedAt - startedAt) / 1000).toFixed(1);
    log(`${fault.name}: window ${seconds} s, ${mine.length} operations, ${unknown} unknown, ${window.unknownAfterRetries} after the retries`);
  }
  await load.pause();
  // Anything still unknown (a window's retries ran out) gets one more round, now that all is quiet.
  await load.retryUnknown(load.operations, Date.now() + (options.retryTimeoutMs ?? 90_000));
  // Stripe's semantics, late: every placement that ever went unanswered, and a sample of the others, is
  // sent once more; the keys check then requires each answer to be the first one.
  const placements = load.operations.filter((op) => op.kind === 'place' && definiteAnswer(op));
  const once = placements.filter((op) => op.attempts.some((a) => classify(a) === 'unknown'));
  const others = placements.filter((op) => !once.includes(op));
  const sample = others.filter((_, i) => i % Math.max(1, Math.ceil(others.length / (options.replaySample ?? 200))) === 0);
  log(`replaying ${once.length} placements that went unanswered once and ${sample.length} others, with their keys and bodies`);
  await load.replay([...once, ...sample]);

  const dbs = openDatabases(target.env);
  try {
    for (const r of uncertainRestocks) {
      const applied = await adjustmentApplied(dbs, r.reason);
      log(`restock "${r.reason}" had no answer; inventory's stock_adjustments say ${applied === undefined ? 'not applied' : `applied (${applied})`}`);
      if (applied !== undefined) stockAdded.set(r.product, stockAdded.get(r.product)! + applied);
    }
    // Settle: the sweepers finish abandoned placements and owed Commit/Release calls, the relay and the projection catch up.
    log('waiting for the system to settle (placements in flight, owed stock calls, outbox, read side)...');
    const settleUntil = Date.now() + (options.settleTimeoutMs ?? 90_000);
    let snapshot: Snapshot;
    for (;;) {
      snapshot = await readSnapshot(
        dbs,
        prefix,
        catalog.map((p) => p.id),
      );
      const moving = unsettled(snapshot);
      if (moving.length === 0) break;
      if (Date.now() > settleUntil) {
        log(`not settled after ${(options.settleTimeoutMs ?? 90_000) / 1000} s: ${moving.join(', ')}; checking anyway`);
        break;
      }
      await sleep(500);
    }

    const api = await readThroughApi(url, load.operations, customers);
    const stats = await statsWithAlerts(windows, load, options.alertEpisodes, options.alertInstanceNames);
    const served = await placeAtEnd(url, admin, prefix, customers);
    const checks = [
      checkRecovered(stats),
      checkUnknownsResolved(load.operations),
      checkAcknowledgedNotLost(load.operations, api),
      checkKeysAndOrders(load.operations, snapshot),
      ...checkStock(stockAdded, snapshot),
      checkReadSide(snapshot),
      ...checkFaultCosts(stats, options.replicas),
      checkServedAtEnd(served.statuses, served.slowestMs),
    ];
    return { runId, stats, checks, pass: checks.every((c) => c.pass), operations: load.operations.length };
  } finally {
    await dbs.close();
  }
}

async function statsWithAlerts(
  windows: FaultWindow[],
  load: RestLoad,
  episodes?: () => Promise<Episode[]>,
  names?: Record<string, string>,
): Promise<WindowStats[]> {
  const seen = episodes ? await episodes() : undefined;
  return windows.map((w) => windowStats({ ...w, alerts: seen ? alertsOfWindow(w, seen, names) : undefined }, load.operations));
}

/** The owner's GET of each acknowledged order, and each customer's whole listing (every page). */
async function readThroughApi(url: string, operations: readonly Operation[], customers: Customer[]): Promise<ApiReads> {
  const tokenOf = new Map(customers.map((c) => [c.id, c.token]));
  const readable = new Map<string, boolean>();
  const acked = [...acknowledged(operations).entries()];
  const get = async (path: string, token: string) => {
    for (let tries = 0; ; tries++) {
      const a = await call(url, { method: 'GET', path, token, timeoutMs: 8_000 });
      if (classify(a) === 'definite' || tries >= 5) return a;
      await sleep(300);
    }
  };
  await eachLimited(acked, 8, async ([id, op]) => {
    const a = await get(`/api/orders/${id}`, tokenOf.get(op.customer)!);
    readable.set(id, a.status === 200 && (a.json as { id?: string } | undefined)?.id === id);
  });
  const listed = new Map<string, Set<string>>();
  await eachLimited(customers, 4, async (customer) => {
    const ids = new Set<string>();
    let token: string | undefined;
    do {
      const a = await get(`/api/orders?page_size=100${token ? `&page_token=${encodeURIComponent(token)}` : ''}`, customer.token);
      if (a.status !== 200) break;
      const page = a.json as { orders: { id: string }[]; next_page_token?: string | null };
      for (const o of page.orders) ids.add(o.id);
      token = page.next_page_token || undefined;
    } while (token);
    listed.set(customer.id, ids);
  });
  return { readable, listed };
}

/** After everything: a fresh product and one keyed placement per customer, all at once. */
async function placeAtEnd(url: string, admin: string, prefix: string, customers: Customer[]): Promise<{ statuses: (number | string)[]; slowestMs: number }> {
  const id = `${prefix}end`;
  await call(url, { method: 'PUT', path: `/api/products/${id}`, token: admin, body: { name: 'Chaos end', price: 1, stock: 1_000 }, timeoutMs: 8_000 });
  const answers = await Promise.all(
    customers.map((c, i) =>
      call(url, {
        method: 'POST',
        path: '/api/orders',
        token: c.token,
        idempotencyKey: `${prefix}end-${i}`,
        body: { items: [{ product_id: id, quantity: 1, unit_price: 1 }], address: 'Chaos Street 1', payment_method: 'card' },
        timeoutMs: 8_000,
      }),
    ),
  );
  return { statuses: answers.map((a) => a.status ?? a.error ?? 'none'), slowestMs: Math.max(...answers.map((a) => a.endedAt - a.sentAt)) };
}
