import { ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { orderQueryV1, orderV1 } from '@orderflow/proto';
import {
  dropSystemData,
  freePort,
  type RunningSystem,
  scrapeMetrics,
  SERVICE_NODE_FLAGS,
  stackDir,
  stackStatus,
  startStack,
  startSystem,
  stopStack,
  typescriptNodeArgs,
  workspaceRoot,
} from '@orderflow/stack';
import mysql from 'mysql2/promise';

const SPARE = 'spare';

/**
 * The whole system on three MariaDB servers (`startSystem`'s `mariadb: 3`: a fifth order shard and a fifth
 * read shard on the third server, holding no buckets), on the `spare` profile so the shared test stack is
 * untouched. `stop` stops the system, drops its databases, and stops (and forgets) the stack if it started it.
 */
export async function startSpareSystem(tag: string): Promise<{ system: RunningSystem; stop(): Promise<void> }> {
  const hadData = fs.existsSync(stackDir(SPARE));
  const startedStack = !(await stackStatus(SPARE)).some((s) => s.running);
  const stack = await startStack({ profile: SPARE, mariadbCount: 3, log: () => undefined });
  const system = await startSystem({ stack, tag, mariadb: 3, stdio: 'ignore', logLevel: 'warn' });
  return {
    system,
    async stop() {
      await system.stop();
      await dropSystemData(system.env);
      if (startedStack) await stopStack({ profile: SPARE, log: () => undefined });
      if (!hadData) fs.rmSync(stackDir(SPARE), { recursive: true, force: true });
    },
  };
}

/** A dev JWT as the README documents it (a tooling project may not import the gateway's source). */
export function devToken(customerId: string, options: { admin?: boolean; ttlSeconds?: number } = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { sub: customerId, roles: options.admin ? ['customer', 'admin'] : ['customer'], iat: now, exp: now + (options.ttlSeconds ?? 3600) };
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', process.env.JWT_SECRET ?? 'orderflow-dev-secret-change-me')
    .update(unsigned)
    .digest('base64url')}`;
}

/** `host:port/database` of a shard list entry. */
export const entry = (shard: string) => {
  const [, host, port, database] = /^([^:]+):(\d+)\/(.+)$/.exec(shard)!;
  return { host: host!, port: Number(port), database: database! };
};

/** One small pool per shard of a list (ORDER_SHARDS or READ_SHARDS). */
export const shardPools = (list: string): mysql.Pool[] =>
  list.split(',').map((shard) => mysql.createPool({ ...entry(shard), user: 'orderflow', password: 'orderflow', connectionLimit: 2 }));

export async function select<T>(pool: mysql.Pool, sql: string, values: unknown[] = []): Promise<T[]> {
  const [rows] = await pool.query(sql, values);
  return rows as T[];
}

export interface ShardsRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
}

/**
 * `npm run shards -- <args>` as a child process of its own (Node with tsx's loader on tools/scripts/shards.ts,
 * as tools/bootstrap.mjs runs it), its output kept line by line. `kill` ends it with a signal.
 */
export function shardsCommand(args: string[], env: Record<string, string>) {
  const root = workspaceRoot();
  const child: ChildProcess = spawn(process.execPath, typescriptNodeArgs(path.join(root, 'tools', 'scripts', 'shards.ts'), []).concat(args), {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const output of [child.stdout, child.stderr]) if (output) createInterface({ input: output }).on('line', (line) => lines.push(line));
  const done = new Promise<ShardsRun>((resolve) => child.once('exit', (code, signal) => setImmediate(() => resolve({ code, signal, lines }))));
  return { child, lines, done };
}

/** Promise-returning PlaceOrder, PayOrder and GetOrder on an order-command address. */
export function orderCommandApi(address: string) {
  const client = new orderV1.OrderCommandServiceClient(address, credentials.createInsecure());
  const unary =
    <Req, Res>(
      method: (request: Req, metadata: Metadata, options: { deadline: Date }, callback: (error: ServiceError | null, response: Res) => void) => unknown,
    ) =>
    (request: Req) =>
      new Promise<Res>((resolve, reject) =>
        method.call(client, request, new Metadata(), { deadline: new Date(Date.now() + 15_000) }, (error, response) =>
          error ? reject(error) : resolve(response),
        ),
      );
  return {
    client,
    placeOrder: unary<orderV1.PlaceOrderRequest, orderV1.PlaceOrderResponse>(client.placeOrder),
    payOrder: unary<orderV1.PayOrderRequest, orderV1.PayOrderResponse>(client.payOrder),
    getOrder: unary<orderV1.GetOrderRequest, orderV1.GetOrderResponse>(client.getOrder),
  };
}

export interface StaleService<Api> {
  api: Api;
  metricsUrl: string;
  /** A counter or gauge of its /metrics (0 when absent). */
  metric(name: string): Promise<number>;
  stop(): Promise<void>;
}
export type StaleOrderCommand = StaleService<ReturnType<typeof orderCommandApi>>;
export type StaleOrderQuery = StaleService<ReturnType<typeof orderQueryApi>>;

/** Promise-returning ListOrders on an order-query address. */
export function orderQueryApi(address: string) {
  const client = new orderQueryV1.OrderQueryServiceClient(address, credentials.createInsecure());
  const listOrders = (request: orderQueryV1.ListOrdersRequest) =>
    new Promise<orderQueryV1.ListOrdersResponse>((resolve, reject) =>
      client.listOrders(request, new Metadata(), { deadline: new Date(Date.now() + 15_000) }, (error, response) => (error ? reject(error) : resolve(response))),
    );
  return { client, listOrders };
}

/**
 * One more process of a service beside a running system's (`entry` under apps/), with the system's
 * environment and `env` on top, its API ready once `probe` is answered with anything but UNAVAILABLE.
 */
async function startBeside<Api extends { client: { close(): void } }>(
  entry: string,
  env: Record<string, string>,
  metricsPort: number,
  api: Api,
  probe: (api: Api) => Promise<unknown>,
): Promise<StaleService<Api>> {
  const root = workspaceRoot();
  const child = spawn(process.execPath, typescriptNodeArgs(path.join(root, 'apps', entry), SERVICE_NODE_FLAGS), {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    api.client.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  for (const deadline = Date.now() + 90_000; ;) {
    const code = await probe(api).then(
      () => status.OK,
      (error: ServiceError) => error.code,
    );
    if (code !== status.UNAVAILABLE) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${entry} beside the system did not start`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  return { api, metricsUrl, metric: async (name) => (await scrapeMetrics(metricsUrl)).value(name) ?? 0, stop };
}

/**
 * One more order-command (API only) beside a running system's, with a live map read again only every
 * `pollMs` (an hour by default): a process that keeps the old map through a switch, unless a fence (or a
 * read that finds nothing) makes it read the map again.
 */
export async function startStaleOrderCommand(env: Record<string, string>, pollMs = 3_600_000): Promise<StaleOrderCommand> {
  const [grpcPort, metricsPort] = [await freePort(), await freePort()];
  return startBeside(
    path.join('order-command', 'src', 'main.ts'),
    {
      ...env,
      ORDER_COMMAND_ROLES: 'api',
      ORDER_COMMAND_GRPC_PORT: String(grpcPort),
      ORDER_COMMAND_METRICS_PORT: String(metricsPort),
      ORDER_SHARD_MAP_POLL_MS: String(pollMs),
    },
    metricsPort,
    orderCommandApi(`127.0.0.1:${grpcPort}`),
    // NOT_FOUND for an order nobody placed: it answers.
    (api) => api.getOrder({ orderId: '1', actor: { customerId: 'probe', admin: true } }),
  );
}

/**
 * One more order-query beside a running system's (it projects its share of the events, and answers reads),
 * with a read map read again only every `pollMs`: its projection writes meet the read shards' fences after
 * a switch, and its reads check that their shard still holds the bucket.
 */
export async function startStaleOrderQuery(env: Record<string, string>, pollMs = 3_600_000): Promise<StaleOrderQuery> {
  const [grpcPort, metricsPort] = [await freePort(), await freePort()];
  return startBeside(
    path.join('order-query', 'src', 'main.ts'),
    { ...env, ORDER_QUERY_GRPC_PORT: String(grpcPort), ORDER_QUERY_METRICS_PORT: String(metricsPort), READ_SHARD_MAP_POLL_MS: String(pollMs) },
    metricsPort,
    orderQueryApi(`127.0.0.1:${grpcPort}`),
    (api) => api.listOrders({ customerId: 'probe', pageSize: 1, pageToken: '' }),
  );
}
