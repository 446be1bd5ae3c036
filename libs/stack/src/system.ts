import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { evenShardMap } from '@orderflow/sharding';
import { knownMariaDbCount, stackInfo, StackInfo } from './stack';
import { freePort } from './ports';
import { DEFAULT_MARIADB_COUNT } from './profiles';
import { childPids } from './processes';
import { Supervisor, SupervisorOptions } from './supervisor';
import { workspaceRoot } from './workspace';

export interface SystemPorts {
  gateway: number;
  orderCommand: number;
  /** order-command's outbox relay, a process of its own (gRPC health only). */
  orderRelay: number;
  inventory: number;
  orderQuery: number;
}

/** The ports `npm start` uses; each service's own config has the same defaults (the relay's are set here). */
export const DEV_PORTS: SystemPorts = { gateway: 8080, orderCommand: 50051, inventory: 50052, orderQuery: 50053, orderRelay: 50054 };

/** Prometheus endpoints (GET /metrics) of the gRPC services; the gateway serves /metrics on its HTTP port. */
export type MetricsPorts = Omit<SystemPorts, 'gateway'>;

/** The metrics ports `npm start` uses; each service's own config has the same defaults. */
export const DEV_METRICS_PORTS: MetricsPorts = { orderCommand: 9451, inventory: 9452, orderQuery: 9453, orderRelay: 9454 };

export interface SystemOptions {
  stack: StackInfo;
  /** Ports to listen on; by default free ones are picked. */
  ports?: SystemPorts;
  /** Metrics ports of the gRPC services; by default free ones are picked. */
  metricsPorts?: MetricsPorts;
  /**
   * Names databases, the stream, the durable consumer and the dead-letter subject, so several systems
   * can share one stack. Empty: the services' own defaults (what `npm start` uses).
   */
  tag?: string;
  /** Extra environment for every service (for example a short PAYMENT_WINDOW_MS in tests). */
  env?: Record<string, string>;
  logLevel?: string;
  /** Where service output goes: inherit (a terminal) or ignore. */
  stdio?: 'inherit' | 'ignore';
  /** When given, service output (stdout and stderr) comes here instead, line by line, with the unit's name (`orderCommand`). */
  onOutput?: (unit: string, line: string) => void;
  /** Node flags for every service process, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR']. */
  nodeFlags?: string[];
  /**
   * A service process that exits unexpectedly is restarted (capped exponential backoff; a crash loop
   * gives up and reports it through `onEvent`). On by default; false turns it off.
   */
  supervision?: false | SupervisorOptions;
  /**
   * Processes of each service (default 1). Replica i of a gRPC service listens on its own ports (with
   * fixed `ports`, each one 10 above the replica before it); callers get every replica's address and
   * spread their calls over them. The gateway runs as many workers sharing its one HTTP port.
   */
  replicas?: number;
  /**
   * MariaDB servers the shards use (default 2, and at most the stack's). Each set's four shards live on
   * the first two; each further server gets one more order shard and one more read shard (the fifth on
   * the third server, and so on), with no buckets: the map is pinned to the first four shards
   * (ORDER_SHARD_MAP, READ_SHARD_MAP) and only a move gives buckets to the new ones (ADR 0009).
   */
  mariadb?: number;
}

export interface RunningSystem {
  /** The ports of the first replica of each service. */
  ports: SystemPorts;
  metricsPorts: MetricsPorts;
  /** The ports of every replica (`replicaPorts[0]` is `ports`; the gateway's HTTP port is shared). */
  replicaPorts: SystemPorts[];
  replicaMetricsPorts: MetricsPorts[];
  env: Record<string, string>;
  gatewayUrl: string;
  /** Stops the services (SIGTERM, waits for each to exit; nothing is restarted after); the stack stays up. */
  stop(): Promise<void>;
  /** Stops and starts one process of a service again with the same settings (a deliberate stop: no supervisor restart). */
  restart(service: keyof SystemPorts, replica?: number): Promise<void>;
  /** The pid of a service's current process (of one replica; of one gateway worker), if it runs. */
  pid(service: keyof SystemPorts, replica?: number): number | undefined;
  /** Every running service process (gateway workers included). */
  processes(): { service: keyof SystemPorts; replica: number; pid: number }[];
}

const addresses = (replicaPorts: SystemPorts[], service: keyof SystemPorts) => replicaPorts.map((p) => `127.0.0.1:${p[service]}`).join(',');

/** Shards of each set on the first two servers, alternating (what every service's defaults name). */
const BASE_SHARDS = 4;

/**
 * The shard lists of one set (`orderflow_orders` or `orderflow_read`, `_<tag>` when tagged) over `mariadb`
 * servers: shards 0-3 alternate between the first two servers; shard 4 is on the third server, shard 5 on
 * the fourth, and so on. With extra shards the map is pinned to the first four (the extra ones start
 * empty); without, no map is set and the services' default (an even map) applies.
 */
export function shardLayout(stack: StackInfo, database: string, mariadb: number = DEFAULT_MARIADB_COUNT): { shards: string[]; map?: string } {
  if (!Number.isInteger(mariadb) || mariadb < DEFAULT_MARIADB_COUNT || mariadb > stack.mysql.length) {
    throw new Error(`the shards can use ${DEFAULT_MARIADB_COUNT} to ${stack.mysql.length} MariaDB servers of this stack (got ${mariadb})`);
  }
  const at = (server: number, shard: number) => `${stack.mysql[server]!.host}:${stack.mysql[server]!.port}/${database}_${shard}`;
  const base = Array.from({ length: BASE_SHARDS }, (_, i) => at(i % 2, i));
  const extra = Array.from({ length: mariadb - DEFAULT_MARIADB_COUNT }, (_, i) => at(DEFAULT_MARIADB_COUNT + i, BASE_SHARDS + i));
  return extra.length === 0 ? { shards: base } : { shards: [...base, ...extra], map: evenShardMap(BASE_SHARDS).toString() };
}

/**
 * The services' shared environment. Addresses list every replica in `replicaPorts` (by default the one
 * set of `ports`); the listening ports are those of the first replica (each process overrides its own).
 * `mariadb`: the servers the shards use (SystemOptions.mariadb).
 */
export function systemEnv(
  stack: StackInfo,
  ports: SystemPorts,
  tag = '',
  metricsPorts?: MetricsPorts,
  replicaPorts: SystemPorts[] = [ports],
  mariadb: number = DEFAULT_MARIADB_COUNT,
): Record<string, string> {
  const [m0] = stack.mysql;
  const named = (base: string) => (tag ? `${base}_${tag}` : base);
  const orders = shardLayout(stack, named('orderflow_orders'), mariadb);
  const reads = shardLayout(stack, named('orderflow_read'), mariadb);
  const subjectPrefix = tag ? `t${tag}.orders.v1` : 'orders.v1';
  return {
    GATEWAY_PORT: String(ports.gateway),
    ORDER_COMMAND_GRPC_PORT: String(ports.orderCommand),
    ORDER_QUERY_GRPC_PORT: String(ports.orderQuery),
    INVENTORY_GRPC_PORT: String(ports.inventory),
    ...(metricsPorts && {
      ORDER_COMMAND_METRICS_PORT: String(metricsPorts.orderCommand),
      ORDER_QUERY_METRICS_PORT: String(metricsPorts.orderQuery),
      INVENTORY_METRICS_PORT: String(metricsPorts.inventory),
    }),
    ORDER_COMMAND_ADDRESS: addresses(replicaPorts, 'orderCommand'),
    ORDER_QUERY_ADDRESS: addresses(replicaPorts, 'orderQuery'),
    INVENTORY_ADDRESS: addresses(replicaPorts, 'inventory'),
    INVENTORY_MYSQL_HOST: m0!.host,
    INVENTORY_MYSQL_PORT: String(m0!.port),
    INVENTORY_MYSQL_DATABASE: named('orderflow_inventory'),
    INVENTORY_REDIS: stack.redis.map((r) => `${r.host}:${r.port}`).join(','),
    ORDER_SHARDS: orders.shards.join(','),
    READ_SHARDS: reads.shards.join(','),
    ...(orders.map && { ORDER_SHARD_MAP: orders.map }),
    ...(reads.map && { READ_SHARD_MAP: reads.map }),
    NATS_SERVERS: stack.nats.servers,
    ORDERS_STREAM: tag ? `ORDERS_${tag}` : 'ORDERS',
    // JetStream reserves max_bytes on disk per stream: a tagged (test) system's stream stays small so parallel runs fit.
    ...(tag && { ORDERS_STREAM_MAX_BYTES: String(256 * 1024 * 1024) }),
    ORDER_EVENT_SUBJECT_PREFIX: subjectPrefix,
    ORDERS_CONSUMER: named('order-query'),
    DEAD_LETTER_SUBJECT: tag ? `t${tag}.orders.deadletter.v1` : 'orders.deadletter.v1',
    DEAD_LETTER_STREAM: tag ? `ORDERS_DLQ_${tag}` : 'ORDERS_DLQ',
  };
}

/**
 * The environment `npm start` gives its services on the dev stack, for tools that drive the running
 * system (`--against running`): the shards on as many MariaDB servers as the dev stack has data for, as
 * `npm start` runs them by default.
 */
export function devSystemEnv(): Record<string, string> {
  const mariadb = knownMariaDbCount('dev');
  return systemEnv(stackInfo('dev', 1, mariadb), DEV_PORTS, '', DEV_METRICS_PORTS, [DEV_PORTS], mariadb);
}

/**
 * The processes, in start order. order-command runs as two: the API (and sweeper), and the outbox relay
 * on its own, so publishing events never waits behind request handling in one event loop (the API wakes
 * the relay over NATS after each commit).
 */
const SERVICES: { name: keyof SystemPorts; entry: string; env: (ports: SystemPorts, metrics: MetricsPorts, replicas: number) => Record<string, string> }[] = [
  {
    name: 'inventory',
    entry: 'apps/inventory/src/main.ts',
    env: (p, m) => ({ INVENTORY_GRPC_PORT: String(p.inventory), INVENTORY_METRICS_PORT: String(m.inventory) }),
  },
  {
    name: 'orderCommand',
    entry: 'apps/order-command/src/main.ts',
    env: (p, m) => ({
      ORDER_COMMAND_ROLES: 'api,sweeper',
      ORDER_COMMAND_GRPC_PORT: String(p.orderCommand),
      ORDER_COMMAND_METRICS_PORT: String(m.orderCommand),
    }),
  },
  {
    name: 'orderRelay',
    entry: 'apps/order-command/src/main.ts',
    env: (p, m) => ({ ORDER_COMMAND_ROLES: 'relay', ORDER_COMMAND_GRPC_PORT: String(p.orderRelay), ORDER_COMMAND_METRICS_PORT: String(m.orderRelay) }),
  },
  {
    name: 'orderQuery',
    entry: 'apps/order-query/src/main.ts',
    env: (p, m) => ({ ORDER_QUERY_GRPC_PORT: String(p.orderQuery), ORDER_QUERY_METRICS_PORT: String(m.orderQuery) }),
  },
  // One process whatever the replicas: its workers share the HTTP port (node:cluster) and it restarts them.
  { name: 'gateway', entry: 'apps/gateway/src/main.ts', env: (p, _m, replicas) => ({ GATEWAY_PORT: String(p.gateway), GATEWAY_WORKERS: String(replicas) }) },
];

/** How many processes startSystem runs of a service (the gateway is one process, with workers). */
const processCount = (name: keyof SystemPorts, replicas: number) => (name === 'gateway' ? 1 : replicas);

/**
 * Node flags of every service process, as in the images' CMD: a 32 MB young-generation semi-space
 * (V8's default is 16 MB) means fewer scavenges of the many short-lived objects of each request; in
 * `npm run bench` it gave ~7% more requests/s in the flash sale and the uniform run (docs/benchmarks.md).
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=32'];

/**
 * Node's arguments to run a TypeScript entry point of this workspace as ONE process: tsx's loader
 * imported into it. (The tsx CLI runs a second Node process under a parent that relays signals and
 * SIGKILLs the child when it does not confirm one within 30 ms: on a busy box a Ctrl-C during `npm
 * start` killed the supervisor before it stopped the stack, and services were cut short while draining.)
 */
export function typescriptNodeArgs(entry: string, nodeFlags: string[] = []): string[] {
  return [...nodeFlags, '--import', pathToFileURL(path.join(workspaceRoot(), 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, entry];
}

const HEALTH_PROTO = require.resolve('grpc-health-check/proto/health/v1/health.proto');

async function grpcServing(address: string): Promise<boolean> {
  const definition = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO, { keepCase: true, enums: String })) as unknown as {
    grpc: {
      health: {
        v1: {
          Health: new (
            a: string,
            c: grpc.ChannelCredentials,
          ) => grpc.Client & { check: (r: object, o: object, cb: (e: Error | null, r: { status: string }) => void) => void };
        };
      };
    };
  };
  const client = new definition.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  try {
    return await new Promise<boolean>((resolve) =>
      client.check({ service: '' }, { deadline: new Date(Date.now() + 1_000) }, (error, response) => resolve(!error && response.status === 'SERVING')),
    );
  } finally {
    client.close();
  }
}

async function httpReady(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
    (r) => r.ok,
    () => false,
  );
}

/**
 * Starts the four services as five processes per replica (Node with tsx's loader on their sources), in
 * dependency order, each waited for until it is healthy. Each service migrates its own databases at start.
 */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const root = workspaceRoot();
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`replicas must be a whole number >= 1 (got ${replicas})`);
  /** The gRPC services' ports of one replica: the given ones shifted by 10 per replica, or free ones. */
  const grpcPorts = async (fixed: MetricsPorts | undefined, replica: number): Promise<MetricsPorts> => {
    const port = async (key: keyof MetricsPorts) => (fixed ? fixed[key] + 10 * replica : freePort());
    return {
      orderCommand: await port('orderCommand'),
      orderRelay: await port('orderRelay'),
      inventory: await port('inventory'),
      orderQuery: await port('orderQuery'),
    };
  };
  const gatewayPort = options.ports?.gateway ?? (await freePort());
  const replicaPorts: SystemPorts[] = [];
  const replicaMetricsPorts: MetricsPorts[] = [];
  for (let i = 0; i < replicas; i++) {
    replicaPorts.push({ ...(await grpcPorts(options.ports, i)), gateway: gatewayPort });
    replicaMetricsPorts.push(await grpcPorts(options.metricsPorts, i));
  }
  const ports = replicaPorts[0]!;
  const metricsPorts = replicaMetricsPorts[0]!;
  const env = {
    ...systemEnv(options.stack, ports, options.tag, metricsPorts, replicaPorts, options.mariadb),
    LOG_LEVEL: options.logLevel ?? 'warn',
    ...options.env,
  };
  const unitName = (name: keyof SystemPorts, replica: number) => (processCount(name, replicas) > 1 ? `${name}-${replica}` : name);
  /** Each process by unit name (`orderCommand`, or `orderCommand-1` with replicas). */
  const children = new Map<string, ChildProcess>();
  const supervisor = options.supervision === false ? undefined : new Supervisor(options.supervision);
  /** Processes that answered ready (only their exit is a crash; one while starting fails the start). */
  const up = new WeakSet<ChildProcess>();
  /** Processes being stopped on purpose. */
  const halting = new WeakSet<ChildProcess>();
  const gone = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

  const launch = async (name: keyof SystemPorts, replica: number) => {
    const service = SERVICES.find((s) => s.name === name)!;
    const unit = unitName(name, replica);
    const own = replicaPorts[replica]!;
    const child = spawn(process.execPath, typescriptNodeArgs(path.join(root, service.entry), [...SERVICE_NODE_FLAGS, ...(options.nodeFlags ?? [])]), {
      cwd: root,
      env: { ...process.env, ...env, ...service.env(own, replicaMetricsPorts[replica]!, replicas) },
      stdio: ['ignore', options.onOutput ? 'pipe' : (options.stdio ?? 'inherit'), options.onOutput ? 'pipe' : (options.stdio ?? 'inherit')],
    });
    const onOutput = options.onOutput;
    if (onOutput) for (const output of [child.stdout, child.stderr]) if (output) createInterface({ input: output }).on('line', (line) => onOutput(unit, line));
    children.set(unit, child);
    child.once('exit', (code, signal) => {
      if (halting.has(child) || !up.has(child)) return;
      supervisor?.crashed(unit, signal ? `signal ${signal}` : `exit code ${code}`, () => launch(name, replica));
    });
    const ready = name === 'gateway' ? () => httpReady(`http://127.0.0.1:${own.gateway}/healthz`) : () => grpcServing(`127.0.0.1:${own[name]}`);
    const deadline = Date.now() + 90_000;
    while (!(await ready())) {
      if (gone(child)) throw new Error(`${unit} exited (${child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`}) while starting`);
      if (Date.now() > deadline) {
        // Not left behind: a supervised restart would start another on the same port.
        halting.add(child);
        child.kill('SIGKILL');
        throw new Error(`${unit} did not become ready on port ${own[name]}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    up.add(child);
  };
  const halt = async (unit: string) => {
    const child = children.get(unit);
    if (!child || gone(child)) return;
    halting.add(child);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  const units = SERVICES.flatMap(({ name }) =>
    Array.from({ length: processCount(name, replicas) }, (_, replica) => ({ name, replica, unit: unitName(name, replica) })),
  );
  const livePid = (unit: string) => {
    const child = children.get(unit);
    return child && !gone(child) ? child.pid : undefined;
  };
  /** The gateway's workers when it runs several (the process itself otherwise). */
  const gatewayPids = (): number[] => {
    const primary = livePid('gateway');
    if (primary === undefined) return [];
    return replicas > 1 ? childPids(primary) : [primary];
  };

  const system: RunningSystem = {
    ports,
    metricsPorts,
    replicaPorts,
    replicaMetricsPorts,
    env,
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    async stop() {
      // No new restarts; one under way is stopped with the rest, then waited for.
      const restarting = supervisor?.stop();
      for (const { name } of [...SERVICES].reverse()) await Promise.all(units.filter((u) => u.name === name).map((u) => halt(u.unit)));
      await restarting;
    },
    async restart(name, replica = 0) {
      const unit = unitName(name, replica);
      await supervisor?.settle(unit);
      await halt(unit);
      await launch(name, replica);
    },
    pid(name, replica = 0) {
      return name === 'gateway' ? gatewayPids()[replica] : livePid(unitName(name, replica));
    },
    processes() {
      return [
        ...units
          .filter((u) => u.name !== 'gateway')
          .flatMap(({ name, replica, unit }) => {
            const pid = livePid(unit);
            return pid === undefined ? [] : [{ service: name, replica, pid }];
          }),
        ...gatewayPids().map((pid, replica) => ({ service: 'gateway' as const, replica, pid })),
      ];
    },
  };
  try {
    // Replicas of one service start side by side; services in dependency order.
    for (const { name } of SERVICES) await Promise.all(units.filter((u) => u.name === name).map((u) => launch(u.name, u.replica)));
  } catch (error) {
    await system.stop();
    throw error;
  }
  return system;
}
