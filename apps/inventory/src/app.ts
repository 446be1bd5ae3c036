import { createSequelize, createSqlPool, ensureDatabase, isDatabaseUnavailable, migrate } from '@orderflow/database';
import { inventoryV1, loadPackageDefinition } from '@orderflow/proto';
import { createLogger, createMetricsRegistry, GrpcServer, Lifecycle, Logger, MetricsServer, PeriodicPurge, retry } from '@orderflow/service-kit';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { InventoryConfig } from './config';
import { DependencyUnavailableError, InventoryError } from './domain/errors';
import { createInventoryUseCases, InventoryUseCases } from './domain/inventory.use-cases';
import type { InventoryStore } from './domain/ports';
import { DEFAULT_LIMITS } from './domain/validation';
import { createInventoryGrpcHandler } from './entry-points/inventory.grpc-handler';
import { ReservationSweeper } from './entry-points/reservation.sweeper';
import { createReservationPurge } from './domain/reservation-retention.use-case';
import { createInventoryMetrics } from './infrastructure/metrics/inventory.metrics';
import { INVENTORY_MIGRATIONS } from './infrastructure/mysql/migrations/0001-create-inventory';
import { RedlockStockLocks } from './infrastructure/redis/redlock.stock-locks';
import { SequelizeInventoryStore, StoreHooks } from './infrastructure/mysql/inventory.store';

export interface InventoryApp {
  lifecycle: Lifecycle;
  useCases: InventoryUseCases;
  grpc: GrpcServer;
  sweeper: ReservationSweeper;
  purger: PeriodicPurge<{ deleted: number; batches: number }>;
  logger: Logger;
  /** Prometheus metrics of this instance; served on config.metrics.port unless that is 0. */
  metrics: Registry;
}

/** Turns driver failures into the domain's "unavailable" error: fail closed, nothing changed. */
function guardStore(store: InventoryStore): InventoryStore {
  const guarded = {} as Record<string, unknown>;
  for (const method of Object.getOwnPropertyNames(Object.getPrototypeOf(store)) as (keyof InventoryStore)[]) {
    const fn = store[method];
    if (typeof fn !== 'function' || (method as string) === 'constructor') continue;
    guarded[method] = async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      } catch (error) {
        if (!(error instanceof InventoryError) && isDatabaseUnavailable(error)) throw new DependencyUnavailableError('mysql', error);
        throw error;
      }
    };
  }
  return guarded as unknown as InventoryStore;
}

/** Composition root shared by main.ts, the tests and the benchmark. Nothing runs until lifecycle.start(). */
/** Between two purge batches, and batches per pass (at the default size, up to 50,000 reservations a minute). */
const PURGE_PAUSE_MS = 100;
const PURGE_MAX_BATCHES_PER_PASS = 100;

export function createInventoryApp(config: InventoryConfig, options: { hooks?: StoreHooks; logger?: Logger } = {}): InventoryApp {
  const logger = options.logger ?? createLogger('inventory', config.logLevel);
  const target = { ...config.mysql };
  const db = createSequelize(target, { max: config.mysql.poolMax, acquireTimeoutMs: 5_000 });
  const sql = createSqlPool(target, { max: config.mysql.poolMax });
  const redisClients = config.redis.map(
    ({ host, port }) => new Redis({ host, port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 }),
  );
  for (const client of redisClients) client.on('error', (err) => logger.debug({ err }, 'redis connection error'));

  const metrics = createMetricsRegistry();
  const instrument = createInventoryMetrics(metrics);
  const rawStore = new SequelizeInventoryStore(db, sql, options.hooks);
  const store = instrument.store(guardStore(rawStore));
  const locks = instrument.locks(new RedlockStockLocks(redisClients, config.locks, (err) => logger.debug({ err }, 'lock release failed')));
  const useCases = instrument.useCases(createInventoryUseCases({
    store,
    locks,
    clock: { now: () => new Date() },
    limits: DEFAULT_LIMITS,
    retry: { run: (work, retryable) => retry(work, { attempts: config.conflictRetries, baseDelayMs: 2, maxDelayMs: 50, retryable }) },
    mode: config.reserveMode,
    maxBatch: config.batchMax,
    batchLanes: config.batchLanes,
    maxQueuedPerLane: config.maxQueuedReserves,
    optimisticRetry: { run: (work, retryable) => retry(work, { attempts: 200, baseDelayMs: 1, maxDelayMs: 20, retryable }) },
  }));

  const grpc = new GrpcServer({
    host: config.grpc.host,
    port: config.grpc.port,
    services: [
      {
        name: 'orderflow.inventory.v1.InventoryService',
        definition: inventoryV1.InventoryServiceService,
        implementation: createInventoryGrpcHandler(useCases, logger),
      },
    ],
    reflection: loadPackageDefinition(),
    logger,
    metrics,
  });
  const sweeper = new ReservationSweeper(useCases, logger, config.sweepIntervalMs);
  const purge = createReservationPurge({
    store: rawStore,
    clock: { now: () => new Date() },
    settings: { retentionMs: config.retention.retentionMs, batchSize: config.retention.batchSize, pauseMs: PURGE_PAUSE_MS, maxBatchesPerPass: PURGE_MAX_BATCHES_PER_PASS },
  });
  // Beside the sweeper; several inventory processes may purge at once: each batch locks the rows it deletes.
  const purger = new PeriodicPurge('reservation-purger', purge.purgeOnce, (r) => r.deleted, logger, config.retention.intervalMs);

  const lifecycle = new Lifecycle([
    ...(config.metrics.port > 0 ? [new MetricsServer({ ...config.metrics, registry: metrics, logger })] : []),
    {
      name: 'mysql',
      start: async () => {
        if (config.migrateOnStart) {
          await ensureDatabase(target);
          const applied = await migrate(target, INVENTORY_MIGRATIONS);
          if (applied.length > 0) logger.info({ applied }, 'migrations applied');
        }
        await db.authenticate();
      },
      stop: async () => {
        await Promise.all([db.close(), sql.end()]);
      },
    },
    {
      name: 'redis',
      start: async () => {
        await Promise.all(redisClients.map((c) => c.connect()));
      },
      stop: async () => {
        // quit() waits for a reply; a client that is not connected just stops reconnecting.
        await Promise.all(redisClients.map((c) => (c.status === 'ready' ? c.quit().then(() => undefined, () => c.disconnect()) : c.disconnect())));
      },
    },
    sweeper,
    purger,
    grpc,
  ]);
  return { lifecycle, useCases, grpc, sweeper, purger, logger, metrics };
}
