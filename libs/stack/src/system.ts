import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { StackInfo } from './stack';
import { freePort } from './ports';
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
  /** Node flags for every service process, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR']. */
  nodeFlags?: string[];
  /**
   * A service process that exits unexpectedly is restarted (capped exponential backoff; a crash loop
   * gives up and reports it through `onEvent`). On by default; false turns it off.
   */
  supervision?: false | SupervisorOptions;
}

export interface RunningSystem {
  ports: SystemPorts;
  metricsPorts: MetricsPorts;
  env: Record<string, string>;
  gatewayUrl: string;
  /** Stops the services (SIGTERM, waits for each to exit; nothing is restarted after); the stack stays up. */
  stop(): Promise<void>;
  /** Stops and starts one service again with the same settings (a deliberate stop: no supervisor restart). */
  restart(service: keyof SystemPorts): Promise<void>;
  /** The pid of a service's current process, if it runs. */
  pid(service: keyof SystemPorts): number | undefined;
}

export function systemEnv(stack: StackInfo, ports: SystemPorts, tag = '', metricsPorts?: MetricsPorts): Record<string, string> {
  const [m0, m1] = stack.mysql;
  const named = (base: string) => (tag ? `${base}_${tag}` : base);
  const spread = (prefix: string) =>
    [0, 1, 2, 3].map((i) => `${(i % 2 ? m1 : m0)!.host}:${(i % 2 ? m1 : m0)!.port}/${named(prefix)}_${i}`).join(',');
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
    ORDER_COMMAND_ADDRESS: `127.0.0.1:${ports.orderCommand}`,
    ORDER_QUERY_ADDRESS: `127.0.0.1:${ports.orderQuery}`,
    INVENTORY_ADDRESS: `127.0.0.1:${ports.inventory}`,
    INVENTORY_MYSQL_HOST: m0!.host,
    INVENTORY_MYSQL_PORT: String(m0!.port),
    INVENTORY_MYSQL_DATABASE: named('orderflow_inventory'),
    INVENTORY_REDIS: stack.redis.map((r) => `${r.host}:${r.port}`).join(','),
    ORDER_SHARDS: spread('orderflow_orders'),
    READ_SHARDS: spread('orderflow_read'),
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
 * The processes, in start order. order-command runs as two: the API (and sweeper), and the outbox relay
 * on its own, so publishing events never waits behind request handling in one event loop (the API wakes
 * the relay over NATS after each commit).
 */
const SERVICES: { name: keyof SystemPorts; entry: string; env?: (ports: SystemPorts, metrics: MetricsPorts) => Record<string, string> }[] = [
  { name: 'inventory', entry: 'apps/inventory/src/main.ts' },
  { name: 'orderCommand', entry: 'apps/order-command/src/main.ts', env: () => ({ ORDER_COMMAND_ROLES: 'api,sweeper' }) },
  {
    name: 'orderRelay',
    entry: 'apps/order-command/src/main.ts',
    env: (ports, metrics) => ({ ORDER_COMMAND_ROLES: 'relay', ORDER_COMMAND_GRPC_PORT: String(ports.orderRelay), ORDER_COMMAND_METRICS_PORT: String(metrics.orderRelay) }),
  },
  { name: 'orderQuery', entry: 'apps/order-query/src/main.ts' },
  { name: 'gateway', entry: 'apps/gateway/src/main.ts' },
];

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
    grpc: { health: { v1: { Health: new (a: string, c: grpc.ChannelCredentials) => grpc.Client & { check: (r: object, o: object, cb: (e: Error | null, r: { status: string }) => void) => void } } } };
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
  return fetch(url, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
}

/**
 * Starts the four services as five processes (Node with tsx's loader on their sources), in dependency order, each waited for
 * until it is healthy. Each service migrates its own databases at start.
 */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const root = workspaceRoot();
  const ports = options.ports ?? {
    gateway: await freePort(),
    orderCommand: await freePort(),
    orderRelay: await freePort(),
    inventory: await freePort(),
    orderQuery: await freePort(),
  };
  const metricsPorts = options.metricsPorts ?? { orderCommand: await freePort(), orderRelay: await freePort(), inventory: await freePort(), orderQuery: await freePort() };
  const env = { ...systemEnv(options.stack, ports, options.tag, metricsPorts), LOG_LEVEL: options.logLevel ?? 'warn', ...options.env };
  const children = new Map<keyof SystemPorts, ChildProcess>();
  const supervisor = options.supervision === false ? undefined : new Supervisor(options.supervision);
  /** Processes that answered ready (only their exit is a crash; one while starting fails the start). */
  const up = new WeakSet<ChildProcess>();
  /** Processes being stopped on purpose. */
  const halting = new WeakSet<ChildProcess>();
  const gone = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

  const launch = async (name: keyof SystemPorts) => {
    const service = SERVICES.find((s) => s.name === name)!;
    const child = spawn(process.execPath, typescriptNodeArgs(path.join(root, service.entry), [...SERVICE_NODE_FLAGS, ...(options.nodeFlags ?? [])]), { cwd: root, env: { ...process.env, ...env, ...service.env?.(ports, metricsPorts) }, stdio: ['ignore', options.stdio ?? 'inherit', options.stdio ?? 'inherit'] });
    children.set(name, child);
    child.once('exit', (code, signal) => {
      if (halting.has(child) || !up.has(child)) return;
      supervisor?.crashed(name, signal ? `signal ${signal}` : `exit code ${code}`, () => launch(name));
    });
    const ready = name === 'gateway' ? () => httpReady(`http://127.0.0.1:${ports.gateway}/healthz`) : () => grpcServing(`127.0.0.1:${ports[name]}`);
    const deadline = Date.now() + 90_000;
    while (!(await ready())) {
      if (gone(child)) throw new Error(`${name} exited (${child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`}) while starting`);
      if (Date.now() > deadline) {
        // Not left behind: a supervised restart would start another on the same port.
        halting.add(child);
        child.kill('SIGKILL');
        throw new Error(`${name} did not become ready on port ${ports[name]}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    up.add(child);
  };
  const halt = async (name: keyof SystemPorts) => {
    const child = children.get(name);
    if (!child || gone(child)) return;
    halting.add(child);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };

  const system: RunningSystem = {
    ports,
    metricsPorts,
    env,
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    async stop() {
      // No new restarts; one under way is stopped with the rest, then waited for.
      const restarting = supervisor?.stop();
      for (const { name } of [...SERVICES].reverse()) await halt(name);
      await restarting;
    },
    async restart(name) {
      await supervisor?.settle(name);
      await halt(name);
      await launch(name);
    },
    pid(name) {
      const child = children.get(name);
      return child && !gone(child) ? child.pid : undefined;
    },
  };
  try {
    for (const { name } of SERVICES) await launch(name);
  } catch (error) {
    await system.stop();
    throw error;
  }
  return system;
}
