import { ORDERS_MAX_AGE_MS, ORDERS_MAX_BYTES } from '@orderflow/messaging';
import { DEFAULT_ORDER_LIMITS, ORDER_LIMIT_CEILINGS } from '@orderflow/proto';
import { checkTimeoutChain, env, eventStreamSettings, eventStreamVariables, readEnv } from '@orderflow/service-kit';
import { DEV_ORDER_SHARDS } from '@orderflow/sharding';
import { z } from 'zod';

/** What one process runs: the gRPC API, the outbox relay, the sweeper (expiry, abandoned placements, settlement). */
export const ORDER_COMMAND_ROLES = ['api', 'relay', 'sweeper'] as const;
export type OrderCommandRole = (typeof ORDER_COMMAND_ROLES)[number];

const roleList = z
  .string()
  .default(ORDER_COMMAND_ROLES.join(','))
  .transform((value, ctx) => {
    const roles = [
      ...new Set(
        value
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean),
      ),
    ];
    const unknown = roles.filter((r) => !(ORDER_COMMAND_ROLES as readonly string[]).includes(r));
    if (roles.length === 0 || unknown.length > 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `must list one or more of ${ORDER_COMMAND_ROLES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`,
      });
      return z.NEVER;
    }
    return roles as OrderCommandRole[];
  });

/** The only reader of process.env for order-command. Defaults match `npm start`'s dev stack. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env) {
  const e = readEnv(
    {
      /**
       * Comma-separated roles of this process. A process without `api` still serves gRPC health; one
       * without `relay` wakes the relays of the others over NATS after each placement.
       */
      ORDER_COMMAND_ROLES: roleList,
      ORDER_COMMAND_GRPC_HOST: env.string('127.0.0.1'),
      ORDER_COMMAND_GRPC_PORT: env.port(50051),
      /** Prometheus endpoint (GET /metrics); port 0 turns it off. */
      ORDER_COMMAND_METRICS_HOST: env.string('127.0.0.1'),
      ORDER_COMMAND_METRICS_PORT: env.port(9451),
      ORDER_SHARDS: env.shardList(DEV_ORDER_SHARDS),
      /**
       * Bucket ranges to shard indexes, e.g. "0-511:0,512-1023:1"; empty = spread evenly. Only the seed of
       * the live map (ADR 0009): written as version 1 on an empty shard set; afterwards the stored map wins.
       */
      ORDER_SHARD_MAP: z.string().default(''),
      /** How often the live shard map is read again (a refused write reads it at once). */
      ORDER_SHARD_MAP_POLL_MS: env.int(1_000, 10),
      /** How long a write to a bucket being switched between shards may wait (capped by the call's deadline), then UNAVAILABLE. */
      ORDER_SHARD_MOVE_MAX_WAIT_MS: env.int(5_000, 0),
      ORDER_MYSQL_USER: env.string('orderflow'),
      ORDER_MYSQL_PASSWORD: env.string('orderflow'),
      ORDER_MYSQL_POOL_MAX: env.int(8, 1),
      INVENTORY_ADDRESS: env.string('127.0.0.1:50052'),
      INVENTORY_DEADLINE_MS: env.int(3_000, 10),
      /**
       * Reserves made together travel in one ReserveBatch call: how long the first waits for others (0:
       * until the event loop has taken in what arrived, so a lone Reserve goes at once), and how many one
       * call carries at most (a full batch goes at once).
       */
      INVENTORY_RESERVE_LINGER_MS: env.int(0, 0, 20),
      INVENTORY_RESERVE_BATCH_MAX: env.int(128, 1, 1_024),
      /**
       * The deadline the gateway gives its calls to this service (the gateway's own variable, read here
       * to check the timeout chain at start; set it once for both). Calls carry their actual deadline.
       */
      DOWNSTREAM_DEADLINE_MS: env.int(5_000, 10),
      ...eventStreamVariables({ maxAgeMs: ORDERS_MAX_AGE_MS, maxBytes: ORDERS_MAX_BYTES }),
      /** Order limits: the gateway reads the same two variables (libs/proto order-limits.ts). */
      MAX_ITEMS: env.int(DEFAULT_ORDER_LIMITS.maxItems, 1, ORDER_LIMIT_CEILINGS.maxItems),
      MAX_QUANTITY: env.int(DEFAULT_ORDER_LIMITS.maxQuantity, 1, ORDER_LIMIT_CEILINGS.maxQuantity),
      PAYMENT_WINDOW_MS: env.int(15 * 60_000, 1),
      RESERVATION_GRACE_MS: env.int(5 * 60_000, 0),
      IDEMPOTENCY_WAIT_MS: env.int(4_000, 0),
      /** How long a product inventory refused as sold out is refused without asking again (0: always ask). */
      SOLD_OUT_CACHE_MS: env.int(200, 0),
      PENDING_TIMEOUT_MS: env.int(30_000, 100),
      SETTLE_AFTER_MS: env.int(2_000, 0),
      ORDER_SWEEP_INTERVAL_MS: env.int(1_000, 10),
      OUTBOX_POLL_INTERVAL_MS: env.int(200, 5),
      OUTBOX_BATCH_SIZE: env.int(100, 1),
      /** Most outbox publishes awaiting their JetStream ack at once in a relay process (over every shard). */
      OUTBOX_PUBLISH_WINDOW: env.int(256, 1, 65_536),
      OUTBOX_LOOPS_PER_SHARD: env.int(2, 1, 16),
      OUTBOX_LINGER_MS: env.int(10, 0),
      /** A finished call's idempotency key is kept this long (Stripe's 24 h): a retry within it replays the answer. */
      IDEMPOTENCY_KEY_TTL_MS: env.int(24 * 3600_000, 3600_000),
      /** A published outbox row is kept this long, then purged. */
      OUTBOX_RETENTION_MS: env.int(24 * 3600_000, 60_000),
      /** How often the sweeper role purges old rows, and how many rows one DELETE takes per shard. */
      ORDER_PURGE_INTERVAL_MS: env.int(60_000, 1_000),
      ORDER_PURGE_BATCH_SIZE: env.int(500, 1, 10_000),
      ORDER_MIGRATE_ON_START: env.bool(true),
      LOG_LEVEL: env.logLevel(),
    },
    source,
  );
  const stream = eventStreamSettings(e);
  checkTimeoutChain([
    {
      inner: ['IDEMPOTENCY_WAIT_MS', e.IDEMPOTENCY_WAIT_MS],
      outer: ['DOWNSTREAM_DEADLINE_MS', e.DOWNSTREAM_DEADLINE_MS],
      why: 'a duplicate request must get idempotency-key-in-flight (409) before the gateway gives up (504)',
    },
    {
      inner: ['INVENTORY_DEADLINE_MS', e.INVENTORY_DEADLINE_MS],
      outer: ['DOWNSTREAM_DEADLINE_MS', e.DOWNSTREAM_DEADLINE_MS],
      why: 'a Reserve must end before the gateway gives up on the placement that waits for it',
    },
    {
      inner: ['INVENTORY_DEADLINE_MS', e.INVENTORY_DEADLINE_MS],
      outer: ['PENDING_TIMEOUT_MS', e.PENDING_TIMEOUT_MS],
      why: 'a placement still waiting for inventory must not be given up as abandoned',
    },
  ]);
  return {
    roles: e.ORDER_COMMAND_ROLES,
    grpc: { host: e.ORDER_COMMAND_GRPC_HOST, port: e.ORDER_COMMAND_GRPC_PORT },
    metrics: { host: e.ORDER_COMMAND_METRICS_HOST, port: e.ORDER_COMMAND_METRICS_PORT },
    shards: e.ORDER_SHARDS.map((s) => ({ ...s, user: e.ORDER_MYSQL_USER, password: e.ORDER_MYSQL_PASSWORD })),
    shardMap: e.ORDER_SHARD_MAP,
    shardMapPollMs: e.ORDER_SHARD_MAP_POLL_MS,
    shardMoveMaxWaitMs: e.ORDER_SHARD_MOVE_MAX_WAIT_MS,
    poolMax: e.ORDER_MYSQL_POOL_MAX,
    inventory: {
      address: e.INVENTORY_ADDRESS,
      deadlineMs: e.INVENTORY_DEADLINE_MS,
      reserveBatching: { lingerMs: e.INVENTORY_RESERVE_LINGER_MS, maxEntries: e.INVENTORY_RESERVE_BATCH_MAX },
    },
    nats: stream,
    limits: { ...DEFAULT_ORDER_LIMITS, maxItems: e.MAX_ITEMS, maxQuantity: e.MAX_QUANTITY },
    paymentWindowMs: e.PAYMENT_WINDOW_MS,
    reservationGraceMs: e.RESERVATION_GRACE_MS,
    idempotencyWaitMs: e.IDEMPOTENCY_WAIT_MS,
    soldOutCacheMs: e.SOLD_OUT_CACHE_MS,
    pendingTimeoutMs: e.PENDING_TIMEOUT_MS,
    settleAfterMs: e.SETTLE_AFTER_MS,
    sweepIntervalMs: e.ORDER_SWEEP_INTERVAL_MS,
    outbox: {
      pollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS,
      batchSize: e.OUTBOX_BATCH_SIZE,
      publishWindow: e.OUTBOX_PUBLISH_WINDOW,
      loopsPerShard: e.OUTBOX_LOOPS_PER_SHARD,
      lingerMs: e.OUTBOX_LINGER_MS,
    },
    retention: {
      idempotencyKeyTtlMs: e.IDEMPOTENCY_KEY_TTL_MS,
      outboxRetentionMs: e.OUTBOX_RETENTION_MS,
      intervalMs: e.ORDER_PURGE_INTERVAL_MS,
      batchSize: e.ORDER_PURGE_BATCH_SIZE,
    },
    migrateOnStart: e.ORDER_MIGRATE_ON_START,
    logLevel: e.LOG_LEVEL,
  };
}

export type OrderCommandConfig = ReturnType<typeof loadConfig>;
