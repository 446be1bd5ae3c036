import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { dropSystemData, freePort, systemEnv, testStack, typescriptNodeArgs, workspaceRoot } from '@orderflow/stack';
import type { ShardSetName } from '../src';

/**
 * One order shard and one read shard migrated by the services themselves: order-command and order-query
 * are started on them (their migrations run at start; the gRPC port listens last) and stopped. Every
 * test's shards are cloned from these, so the tests always run on the schema the apps really create.
 */
export interface AppSchemas {
  /** The template database of each set: host, port and name. */
  orders: { host: string; port: number; database: string };
  reads: { host: string; port: number; database: string };
  /** The system environment, for dropSystemData. */
  env: Record<string, string>;
}

const ENV_NAME = 'ORDERFLOW_SHARDS_TEST_TEMPLATES';

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function runUntilServing(entry: string, env: Record<string, string>, port: number): Promise<void> {
  const output: string[] = [];
  const child = spawn(process.execPath, typescriptNodeArgs(path.join(workspaceRoot(), entry)), {
    cwd: workspaceRoot(),
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${entry} exited (${child.exitCode}) before serving:\n${output.join('')}`);
      if (await listening(port)) return;
      if (Date.now() > deadline) throw new Error(`${entry} did not serve on ${port} within 90 s:\n${output.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

export async function migrateAppSchemas(): Promise<AppSchemas> {
  const stack = testStack.info();
  const tag = `shtpl${process.pid}`;
  const mysql = stack.mysql[0]!;
  const ports = { gateway: 0, orderCommand: await freePort(), orderRelay: 0, inventory: await freePort(), orderQuery: await freePort() };
  const orders = { host: mysql.host, port: mysql.port, database: `orderflow_orders_${tag}` };
  const reads = { host: mysql.host, port: mysql.port, database: `orderflow_read_${tag}` };
  const env = {
    ...systemEnv(stack, ports, tag),
    ORDER_SHARDS: `${orders.host}:${orders.port}/${orders.database}`,
    READ_SHARDS: `${reads.host}:${reads.port}/${reads.database}`,
    ORDER_COMMAND_METRICS_PORT: '0',
    ORDER_QUERY_METRICS_PORT: '0',
    ORDER_COMMAND_ROLES: 'api',
  };
  const schemas = { orders, reads, env };
  process.env[ENV_NAME] = JSON.stringify(schemas);
  await Promise.all([
    runUntilServing('apps/order-command/src/main.ts', env, ports.orderCommand),
    runUntilServing('apps/order-query/src/main.ts', env, ports.orderQuery),
  ]);
  return schemas;
}

export function appSchemas(): AppSchemas {
  const value = process.env[ENV_NAME];
  if (!value) throw new Error(`${ENV_NAME} is not set: the global setup (test/global-setup.ts) migrates the template shards`);
  return JSON.parse(value) as AppSchemas;
}

export async function dropAppSchemas(): Promise<void> {
  const value = process.env[ENV_NAME];
  if (value) await dropSystemData((JSON.parse(value) as AppSchemas).env);
}

export const templateOf = (set: ShardSetName) => appSchemas()[set];
