import { inventoryV1, loadPackageDefinition } from '@orderflow/proto';
import { createLogger, createMetricsRegistry, GrpcServer, Lifecycle, Logger, MetricsServer, PeriodicPurge, retry } from '@orderflow/service-kit';
import type { Registry } from 'prom-client';
import type { InventoryConfig } from './config';
import { createInventoryUseCases, InventoryUseCases } from './domain/inventory.use-cases';
import { createReservationPurge } from './domain/reservation-retention.use-case';
import type { Clock, InventoryStore, StockLocks } from './domain/ports';
import { DEFAULT_LIMITS, InventoryLimits } from './domain/validation';
import { createInventoryGrpcHandler } from './entry-points/inventory.grpc-handler';
import { createReservationPurger } from './entry-points/reservation.purger';
import { ReservationSweeper } from './entry-points/reservation.sweeper';
import { createInventoryMetrics } from './infrastructure/metrics/inventory.metrics';
import { createInventoryDatabase } from './infrastructure/mysql/inventory.database';
import { MysqlInventoryStore, StoreHooks } from './infrastructure/mysql/inventory.store';
import { guardStore } from './infrastructure/mysql/store.guard';
import { createRedisMasters } from './infrastructure/redis/redis-masters';
import { RedlockStockLocks } from './infrastructure/redis/redlock.stock-locks';

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

/** What the use cases are built from, for a decorator that builds another. */
export interface UseCaseDeps {
  store: InventoryStore;
  locks: StockLocks;
  clock: Clock;
  limits: InventoryLimits;
}

export interface InventoryOptions {
  /** For fault-injection tests: runs inside stock-changing transactions. */
  hooks?: StoreHooks;
  logger?: Logger;
  /** For the benchmark's baselines (apps/inventory/bench/): replaces use cases, under the same metrics. */
  decorateUseCases?: (useCases: InventoryUseCases, deps: UseCaseDeps) => InventoryUseCases;
}

/** Between two purge batches, and batches per pass (at the default size, up to 50,000 reservations a minute). */
const PURGE_PAUSE_MS = 100;
const PURGE_MAX_BATCHES_PER_PASS = 100;

/** Composition root shared by main.ts, the tests and the benchmark. Nothing runs until lifecycle.start(). */
export function createInventoryApp(config: InventoryConfig, options: InventoryOptions = {}): InventoryApp {
  const logger = options.logger ?? createLogger('inventory', config.logLevel);
  const clock = { now: () => new Date() };
  const database = createInventoryDatabase(config.mysql, { poolMax: config.mysql.poolMax, migrateOnStart: config.migrateOnStart, logger });
  const redis = createRedisMasters(config.redis, logger);

  const metrics = createMetricsRegistry();
  const instrument = createInventoryMetrics(metrics);
  const rawStore = new MysqlInventoryStore(database.pool, options.hooks);
  const store = instrument.store(guardStore(rawStore));
  const locks = instrument.locks(new RedlockStockLocks(redis.clients, config.locks, (err) => logger.debug({ err }, 'lock release failed')));
  const limits = DEFAULT_LIMITS;
  const ownUseCases = createInventoryUseCases({
    store,
    locks,
    clock,
    limits,
    retry: { run: (work, retryable) => retry(work, { attempts: config.conflictRetries, baseDelayMs: 2, maxDelayMs: 50, retryable }) },
    mode: config.reserveMode,
    maxBatch: config.batchMax,
    batchLanes: config.batchLanes,
    maxQueuedPerLane: config.maxQueuedReserves,
  });
  const useCases = instrument.useCases(options.decorateUseCases?.(ownUseCases, { store, locks, clock, limits }) ?? ownUseCases);

  const implementation = createInventoryGrpcHandler(useCases, logger, metrics);
  const grpc = new GrpcServer({
    host: config.grpc.host,
    port: config.grpc.port,
    services: [{ name: 'orderflow.inventory.v1.InventoryService', definition: inventoryV1.InventoryServiceService, implementation }],
    reflection: loadPackageDefinition(),
    logger,
    metrics,
  });
  const sweeper = new ReservationSweeper(useCases, logger, config.sweepIntervalMs);
  const { retentionMs, batchSize, intervalMs } = config.retention;
  const settings = { retentionMs, batchSize, pauseMs: PURGE_PAUSE_MS, maxBatchesPerPass: PURGE_MAX_BATCHES_PER_PASS };
  const purge = createReservationPurge({ store: rawStore, clock, settings });
  const purger = createReservationPurger(purge, logger, intervalMs);

  const metricsServer = config.metrics.port > 0 ? [new MetricsServer({ ...config.metrics, registry: metrics, logger })] : [];
  const lifecycle = new Lifecycle([...metricsServer, database.component, redis.component, sweeper, purger, grpc]);
  return { lifecycle, useCases, grpc, sweeper, purger, logger, metrics };
}
