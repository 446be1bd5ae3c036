import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { type Client, credentials } from '@grpc/grpc-js';
import { dropDatabase } from '@orderflow/database';
import { connectNats } from '@orderflow/messaging';
import { inventoryV1, orderV1 } from '@orderflow/proto';
import { createLogger, unaryCaller, type UnaryMethodName } from '@orderflow/service-kit';
import { freePort, testStack, typescriptNodeArgs, workspaceRoot } from '@orderflow/stack';
import { createOrderCommandApp, OrderCommandApp, OrderCommandOptions } from '../src/app';
import { loadConfig, OrderCommandConfig } from '../src/config';
import type { OrderEventRecord } from '../src/domain/model';
import { newOrder, place } from '../src/domain/order.aggregate';
import type { ShardedOrderIds } from '../src/infrastructure/order-ids';

const root = workspaceRoot();
let counter = 0;

/** Promise-returning calls on a generated client (service-kit's unaryCaller), each with a 30 s deadline. */
function caller<C extends Client>(client: C) {
  const call = unaryCaller(client, { deadlineMs: 30_000, isCutOff: () => false });
  return <K extends UnaryMethodName<C>>(name: K) => call(name, { repeatIfCutOff: false });
}

export interface InventoryProcess {
  address: string;
  database: string;
  api: {
    upsertProduct: (r: inventoryV1.UpsertProductRequest) => Promise<inventoryV1.UpsertProductResponse>;
    getProducts: (r: inventoryV1.GetProductsRequest) => Promise<inventoryV1.GetProductsResponse>;
    release: (r: inventoryV1.ReleaseRequest) => Promise<inventoryV1.ReleaseResponse>;
  };
  stop(): Promise<void>;
}

/** The real inventory service as its own process (an app may not import another app). */
export async function startInventoryProcess(env: Record<string, string> = {}): Promise<InventoryProcess> {
  const stack = testStack.info();
  const port = await freePort();
  const database = `oc_inventory_${process.pid}_${++counter}`;
  const child: ChildProcess = spawn(process.execPath, typescriptNodeArgs(path.join(root, 'apps', 'inventory', 'src', 'main.ts')), {
    env: {
      ...process.env,
      INVENTORY_GRPC_PORT: String(port),
      INVENTORY_METRICS_PORT: '0',
      INVENTORY_MYSQL_PORT: String(stack.mysql[0]!.port),
      INVENTORY_MYSQL_DATABASE: database,
      INVENTORY_REDIS: `127.0.0.1:${stack.redis[0]!.port}`,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const address = `127.0.0.1:${port}`;
  const client = new inventoryV1.InventoryServiceClient(address, credentials.createInsecure());
  const call = caller(client);
  const api = {
    upsertProduct: call('upsertProduct'),
    getProducts: call('getProducts'),
    release: call('release'),
  };
  const deadline = Date.now() + 60_000;
  while (
    !(await api.getProducts({ productIds: ['probe'] }).then(
      () => true,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('inventory process did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address,
    database,
    api,
    async stop() {
      client.close();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      await dropDatabase({ ...stack.mysql[0]!, database });
    },
  };
}

/** Four order shards spread over both MariaDB servers, and a stream of its own, unique to this run. */
export function orderCommandConfig(inventoryAddress: string, env: Record<string, string> = {}): OrderCommandConfig {
  return loadConfig(orderCommandEnv(inventoryAddress, env));
}

/** The environment behind orderCommandConfig, for an order-command run as a process of its own. */
export function orderCommandEnv(inventoryAddress: string, env: Record<string, string> = {}): Record<string, string> {
  const stack = testStack.info();
  const tag = `${process.pid}_${++counter}`;
  const shards = [0, 1, 2, 3].map((i) => `${stack.mysql[i % 2]!.host}:${stack.mysql[i % 2]!.port}/oc_orders_${tag}_${i}`).join(',');
  return {
    ORDER_COMMAND_GRPC_PORT: '0',
    ORDER_COMMAND_METRICS_PORT: '0', // off: tests that scrape pick a free port
    ORDER_SHARDS: shards,
    INVENTORY_ADDRESS: inventoryAddress,
    NATS_SERVERS: stack.nats.servers,
    ORDERS_STREAM: `ORDERS_OC_${tag}`,
    // JetStream reserves max_bytes on disk per stream: test streams stay small so parallel runs fit.
    ORDERS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
    ORDER_EVENT_SUBJECT_PREFIX: `oc${tag}.orders.v1`,
    OUTBOX_POLL_INTERVAL_MS: '50',
    ORDER_SWEEP_INTERVAL_MS: '3600000',
    LOG_LEVEL: 'silent',
    ...env,
  };
}

export interface RunningOrderCommand {
  app: OrderCommandApp;
  config: OrderCommandConfig;
  api: ReturnType<typeof orderApi>;
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export function orderApi(address: string) {
  const client = new orderV1.OrderCommandServiceClient(address, credentials.createInsecure());
  const call = caller(client);
  return {
    client,
    placeOrder: call('placeOrder'),
    cancelOrder: call('cancelOrder'),
    payOrder: call('payOrder'),
    shipOrder: call('shipOrder'),
    getOrder: call('getOrder'),
    getOrderHistory: call('getOrderHistory'),
  };
}

export async function startOrderCommand(config: OrderCommandConfig, options: OrderCommandOptions = {}): Promise<RunningOrderCommand> {
  const app = createOrderCommandApp(config, { logger: createLogger('order-command-test', 'silent'), ...options });
  await app.lifecycle.start();
  const api = orderApi(`127.0.0.1:${app.grpc.boundPort}`);
  return {
    app,
    config,
    api,
    async stop({ keepData = false } = {}) {
      api.client.close();
      await app.lifecycle.stop();
      if (keepData) return;
      for (const shard of config.shards) await dropDatabase(shard);
      const nc = await connectNats({ servers: config.nats.servers, name: 'test-cleanup' });
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(config.nats.stream).catch(() => undefined);
      await nc.close();
    },
  };
}

export interface OrderCommandRun {
  inventory: InventoryProcess;
  oc: RunningOrderCommand;
}

/**
 * For a describe block: before its tests, an inventory process and a real order-command of its own
 * (orderCommandConfig(address, env), with `options`); after them, both stopped and their data dropped.
 */
export function orderCommandRun(env: Record<string, string> = {}, options: OrderCommandOptions = {}): OrderCommandRun {
  const run = {} as OrderCommandRun;
  beforeAll(async () => {
    run.inventory = await startInventoryProcess();
    run.oc = await startOrderCommand(orderCommandConfig(run.inventory.address, env), options);
  });
  afterAll(async () => {
    await run.oc?.stop();
    await run.inventory?.stop();
  });
  return run;
}

/** A PlaceOrder request of one line: unkeyed, to 'A', by card, unless `more` says otherwise. */
export const placeOrderRequest = (customerId: string, line: orderV1.OrderItem, more: Partial<orderV1.PlaceOrderRequest> = {}): orderV1.PlaceOrderRequest => ({
  customerId,
  idempotencyKey: '',
  items: [line],
  address: 'A',
  paymentMethod: 'card',
  ...more,
});

export const customer = (actor: string, admin = false): orderV1.Actor => ({ customerId: actor, admin });

/** The OrderPlaced event of a new order of one unit of `productId` under a fresh id of the customer's bucket, for writes through the repository. */
export function placedEvent(ids: ShardedOrderIds, customerId: string, productId: string): OrderEventRecord {
  const now = new Date();
  const order = newOrder(
    { customerId, items: [{ productId, quantity: 1, unitPriceMinor: 100 }], address: 'A', paymentMethod: 'card' },
    ids.next(customerId),
    now,
    60_000,
  );
  return place(order, now).event;
}
