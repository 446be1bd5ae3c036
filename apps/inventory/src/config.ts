import { checkTimeoutChain, env, readEnv } from '@orderflow/service-kit';
import { z } from 'zod';

/** The only reader of process.env for the inventory service. Defaults match `npm start`'s dev stack. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env) {
  const e = readEnv(
    {
      INVENTORY_GRPC_HOST: env.string('127.0.0.1'),
      INVENTORY_GRPC_PORT: env.port(50052),
      /** Prometheus endpoint (GET /metrics); port 0 turns it off. */
      INVENTORY_METRICS_HOST: env.string('127.0.0.1'),
      INVENTORY_METRICS_PORT: env.port(9452),
      INVENTORY_MYSQL_HOST: env.string('127.0.0.1'),
      INVENTORY_MYSQL_PORT: env.port(13306),
      INVENTORY_MYSQL_USER: env.string('orderflow'),
      INVENTORY_MYSQL_PASSWORD: env.string('orderflow'),
      INVENTORY_MYSQL_DATABASE: z
        .string()
        .regex(/^[A-Za-z0-9_]+$/)
        .default('orderflow_inventory'),
      INVENTORY_MYSQL_POOL_MAX: env.int(16, 1),
      /** One host:port per independent Redis master; Redlock needs a majority of them. */
      INVENTORY_REDIS: env.hostPorts('127.0.0.1:16379'),
      INVENTORY_LOCK_TTL_MS: env.int(2_000, 10),
      INVENTORY_LOCK_WAIT_MS: env.int(2_000, 0),
      INVENTORY_LOCK_RETRY_DELAY_MS: env.int(20, 1),
      INVENTORY_CONFLICT_RETRIES: env.int(8, 1),
      /** batched (default) or locked (every Reserve takes its own locks and transaction); see docs/inventory.md. */
      INVENTORY_RESERVE_MODE: z.enum(['batched', 'locked']).default('batched'),
      INVENTORY_BATCH_MAX: env.int(256, 1),
      /** Batches in flight at once: products hash to lanes; one product's requests share one lane. */
      INVENTORY_BATCH_LANES: env.int(4, 1),
      /** Reserves that may wait in one lane's queue; beyond it a Reserve is refused at once (RESOURCE_EXHAUSTED). */
      INVENTORY_MAX_QUEUED_RESERVES: env.int(4_096, 1),
      INVENTORY_SWEEP_INTERVAL_MS: env.int(5_000, 10),
      /** A COMMITTED or RELEASED reservation is kept this long after it settled, then purged. */
      INVENTORY_RESERVATION_RETENTION_MS: env.int(7 * 24 * 3600_000, 3600_000),
      /** How often settled reservations are purged, and how many one DELETE takes per status. */
      INVENTORY_PURGE_INTERVAL_MS: env.int(60_000, 1_000),
      INVENTORY_PURGE_BATCH_SIZE: env.int(500, 1, 10_000),
      /**
       * The deadline order-command gives its calls to this service (order-command's own variable, read
       * here to check the timeout chain at start; set it once for both). Calls carry their actual deadline.
       */
      INVENTORY_DEADLINE_MS: env.int(3_000, 10),
      INVENTORY_MIGRATE_ON_START: env.bool(true),
      LOG_LEVEL: env.logLevel(),
    },
    source,
  );
  checkTimeoutChain([
    {
      inner: ['INVENTORY_LOCK_WAIT_MS', e.INVENTORY_LOCK_WAIT_MS],
      outer: ['INVENTORY_DEADLINE_MS', e.INVENTORY_DEADLINE_MS],
      why: 'a Reserve waiting for its locks must give up (ABORTED, retry later) before order-command gives up on it',
    },
  ]);
  return {
    grpc: { host: e.INVENTORY_GRPC_HOST, port: e.INVENTORY_GRPC_PORT },
    metrics: { host: e.INVENTORY_METRICS_HOST, port: e.INVENTORY_METRICS_PORT },
    mysql: {
      host: e.INVENTORY_MYSQL_HOST,
      port: e.INVENTORY_MYSQL_PORT,
      user: e.INVENTORY_MYSQL_USER,
      password: e.INVENTORY_MYSQL_PASSWORD,
      database: e.INVENTORY_MYSQL_DATABASE,
      poolMax: e.INVENTORY_MYSQL_POOL_MAX,
    },
    redis: e.INVENTORY_REDIS,
    locks: { ttlMs: e.INVENTORY_LOCK_TTL_MS, waitMs: e.INVENTORY_LOCK_WAIT_MS, retryDelayMs: e.INVENTORY_LOCK_RETRY_DELAY_MS },
    conflictRetries: e.INVENTORY_CONFLICT_RETRIES,
    reserveMode: e.INVENTORY_RESERVE_MODE,
    batchMax: e.INVENTORY_BATCH_MAX,
    batchLanes: e.INVENTORY_BATCH_LANES,
    maxQueuedReserves: e.INVENTORY_MAX_QUEUED_RESERVES,
    sweepIntervalMs: e.INVENTORY_SWEEP_INTERVAL_MS,
    retention: { retentionMs: e.INVENTORY_RESERVATION_RETENTION_MS, intervalMs: e.INVENTORY_PURGE_INTERVAL_MS, batchSize: e.INVENTORY_PURGE_BATCH_SIZE },
    migrateOnStart: e.INVENTORY_MIGRATE_ON_START,
    logLevel: e.LOG_LEVEL,
  };
}

export type InventoryConfig = ReturnType<typeof loadConfig>;
