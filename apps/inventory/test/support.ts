import { credentials, ServiceError } from '@grpc/grpc-js';
import { dropDatabase } from '@orderflow/database';
import { inventoryV1 } from '@orderflow/proto';
import { createLogger, unaryCaller } from '@orderflow/service-kit';
import { testStack } from '@orderflow/stack';
import { createInventoryApp, InventoryApp, InventoryOptions } from '../src/app';
import { InventoryConfig, loadConfig } from '../src/config';
import type { StoreHooks } from '../src/infrastructure/mysql/inventory.store';

let counter = 0;

/** Settings for an inventory service on the test stack, with a database of its own. */
export function testConfig(env: Record<string, string> = {}): InventoryConfig {
  const stack = testStack.info();
  const mysql = stack.mysql[0]!;
  return loadConfig({
    INVENTORY_GRPC_PORT: '0',
    INVENTORY_METRICS_PORT: '0', // off: tests that scrape pick a free port
    INVENTORY_MYSQL_HOST: mysql.host,
    INVENTORY_MYSQL_PORT: String(mysql.port),
    INVENTORY_MYSQL_USER: mysql.user,
    INVENTORY_MYSQL_PASSWORD: mysql.password,
    INVENTORY_MYSQL_DATABASE: `inventory_test_${process.pid}_${++counter}`,
    INVENTORY_REDIS: stack.redis.map((r) => `${r.host}:${r.port}`).join(','),
    INVENTORY_SWEEP_INTERVAL_MS: '3600000',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

/** A promise-returning view of the generated client (service-kit's unaryCaller), with a deadline on every call. */
export function promisify(client: inventoryV1.InventoryServiceClient) {
  const call = unaryCaller(client, { deadlineMs: 60_000, isCutOff: () => false });
  const once = { repeatIfCutOff: false };
  const reserve = call('reserve', once);
  return {
    upsertProduct: call('upsertProduct', once),
    getProducts: call('getProducts', once),
    /** Expected prices and a placement id are optional, as on the wire. */
    reserve: (request: Omit<inventoryV1.ReserveRequest, 'expectedPrices' | 'placementId'> & Partial<inventoryV1.ReserveRequest>) =>
      reserve({ expectedPrices: [], placementId: '', ...request }),
    commit: call('commit', once),
    prepareCommit: call('prepareCommit', once),
    release: call('release', once),
    adjustStock: call('adjustStock', once),
  };
}

export type InventoryApi = ReturnType<typeof promisify>;

export interface RunningInventory {
  app: InventoryApp;
  config: InventoryConfig;
  api: InventoryApi;
  address: string;
  stop(): Promise<void>;
}

/** Boots a real inventory service (gRPC on a free port) against the test stack. */
export async function startInventory(
  options: { env?: Record<string, string>; hooks?: StoreHooks; decorateUseCases?: InventoryOptions['decorateUseCases'] } = {},
): Promise<RunningInventory> {
  const config = testConfig(options.env);
  const app = createInventoryApp(config, {
    hooks: options.hooks,
    decorateUseCases: options.decorateUseCases,
    logger: createLogger('inventory-test', 'silent'),
  });
  await app.lifecycle.start();
  const address = `127.0.0.1:${app.grpc.boundPort}`;
  const client = new inventoryV1.InventoryServiceClient(address, credentials.createInsecure());
  return {
    app,
    config,
    api: promisify(client),
    address,
    async stop() {
      client.close();
      await app.lifecycle.stop();
      await dropDatabase(config.mysql);
    },
  };
}

/**
 * Store hooks that pause the first `pauses` stock writes between their read and their write for `ms`,
 * and record how many writers were ever inside at once (more than one: a lock expired under a holder).
 */
export function pausingStockWrites(pauses = 6, ms = 250) {
  let inside = 0;
  let paused = 0;
  const seen = { maxInside: 0 };
  const hooks: StoreHooks = {
    beforeStockWrite: async () => {
      inside++;
      seen.maxInside = Math.max(seen.maxInside, inside);
      if (paused++ < pauses) await new Promise((resolve) => setTimeout(resolve, ms));
      inside--;
    },
  };
  return { hooks, seen };
}

export const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000);

/** Every product's counters add up: available + reserved + sold === received, and none is negative. */
export function expectConserved(products: inventoryV1.Product[]): void {
  for (const p of products) {
    expect({ id: p.id, total: p.available + p.reserved + p.sold, negative: Math.min(p.available, p.reserved, p.sold) < 0 }).toEqual({
      id: p.id,
      total: p.received,
      negative: false,
    });
  }
}

/** The error a call fails with; an answer fails the test. */
export const failure = (call: Promise<unknown>): Promise<ServiceError> =>
  call.then(
    (answer) => Promise.reject(new Error(`expected the call to fail, got ${JSON.stringify(answer)}`)),
    (error: ServiceError) => error,
  );

/** Settles every promise and tallies fulfilled results and gRPC error codes. */
export async function tally<T>(promises: Promise<T>[]): Promise<{ ok: T[]; codes: Record<number, number> }> {
  const results = await Promise.allSettled(promises);
  const ok: T[] = [];
  const codes: Record<number, number> = {};
  for (const r of results) {
    if (r.status === 'fulfilled') ok.push(r.value);
    else {
      const code = (r.reason as ServiceError).code ?? -1;
      codes[code] = (codes[code] ?? 0) + 1;
    }
  }
  return { ok, codes };
}
