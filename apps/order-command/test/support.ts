import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { credentials, Metadata, ServiceError } from '@grpc/grpc-js';
import { dropDatabase } from '@orderflow/database';
import { connectNats } from '@orderflow/messaging';
import { inventoryV1, orderV1 } from '@orderflow/proto';
import { createLogger } from '@orderflow/service-kit';
import { freePort, testStack, typescriptNodeArgs, workspaceRoot } from '@orderflow/stack';
import { createOrderCommandApp, OrderCommandApp, OrderCommandOptions } from '../src/app';
import { loadConfig, OrderCommandConfig } from '../src/config';

const root = workspaceRoot();
let counter = 0;

type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

function caller(client: object) {
  return <Req, Res>(method: unknown) =>
    (request: Req): Promise<Res> =>
      new Promise((resolve, reject) =>
        (method as Unary<Req, Res>).call(client, request, new Metadata(), { deadline: new Date(Date.now() + 30_000) }, (error, response) =>
          error ? reject(error) : resolve(response),
        ),
      );
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
    upsertProduct: call<inventoryV1.UpsertProductRequest, inventoryV1.UpsertProductResponse>(client.upsertProduct),
    getProducts: call<inventoryV1.GetProductsRequest, inventoryV1.GetProductsResponse>(client.getProducts),
    release: call<inventoryV1.ReleaseRequest, inventoryV1.ReleaseResponse>(client.release),
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
    placeOrder: call<orderV1.PlaceOrderRequest, orderV1.PlaceOrderResponse>(client.placeOrder),
    cancelOrder: call<orderV1.CancelOrderRequest, orderV1.CancelOrderResponse>(client.cancelOrder),
    payOrder: call<orderV1.PayOrderRequest, orderV1.PayOrderResponse>(client.payOrder),
    shipOrder: call<orderV1.ShipOrderRequest, orderV1.ShipOrderResponse>(client.shipOrder),
    getOrder: call<orderV1.GetOrderRequest, orderV1.GetOrderResponse>(client.getOrder),
    getOrderHistory: call<orderV1.GetOrderHistoryRequest, orderV1.GetOrderHistoryResponse>(client.getOrderHistory),
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

export const customer = (actor: string, admin = false): orderV1.Actor => ({ customerId: actor, admin });
