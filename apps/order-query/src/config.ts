import { ORDERS_MAX_AGE_MS, ORDERS_MAX_BYTES } from '@orderflow/messaging';
import { ConfigError, env, eventStreamSettings, eventStreamVariables, readEnv } from '@orderflow/service-kit';
import { DEV_READ_SHARDS } from '@orderflow/sharding';
import { z } from 'zod';

/** The only reader of process.env for order-query. Defaults match `npm start`'s dev stack. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env) {
  const e = readEnv(
    {
      ORDER_QUERY_GRPC_HOST: env.string('127.0.0.1'),
      ORDER_QUERY_GRPC_PORT: env.port(50053),
      /** Prometheus endpoint (GET /metrics); port 0 turns it off. */
      ORDER_QUERY_METRICS_HOST: env.string('127.0.0.1'),
      ORDER_QUERY_METRICS_PORT: env.port(9453),
      /** "host:port/database,...", parsed like order-command's ORDER_SHARDS. */
      READ_SHARDS: env.shardList(DEV_READ_SHARDS),
      /**
       * Bucket ranges to shard indexes, e.g. "0-511:0,512-1023:1"; empty = spread evenly. Only the first
       * process on empty read shards uses it (stored as the live map's version 1); later only moves change it.
       */
      READ_SHARD_MAP: z.string().default(''),
      /** How often the live read-shard map is read again (and this process's version reported to moves). */
      READ_SHARD_MAP_POLL_MS: env.int(1_000, 10),
      /** Longest a projection waits for a bucket move's switch before its event is NAKed for later. */
      READ_SHARD_MOVE_MAX_WAIT_MS: env.int(5_000, 0),
      READ_MYSQL_USER: env.string('orderflow'),
      READ_MYSQL_PASSWORD: env.string('orderflow'),
      READ_MYSQL_POOL_MAX: env.int(8, 1),
      ...eventStreamVariables({ maxAgeMs: ORDERS_MAX_AGE_MS, maxBytes: ORDERS_MAX_BYTES }),
      /** The durable consumer's name: every order-query process shares it (and so the work). */
      ORDERS_CONSUMER: env.natsName('order-query'),
      DEAD_LETTER_SUBJECT: env.natsSubject('orders.deadletter.v1'),
      DEAD_LETTER_STREAM: env.natsName('ORDERS_DLQ'),
      MAX_DELIVER: env.int(60, 2),
      ACK_WAIT_MS: env.int(30_000, 1000),
      /** First NAK delay (out-of-order or transient failure); doubles with every delivery, up to the max. */
      REDELIVERY_DELAY_MS: env.int(200, 1),
      REDELIVERY_DELAY_MAX_MS: env.int(30_000, 1),
      /** Groups of events processed at once (events of one order always one after another). */
      PROJECTION_CONCURRENCY: env.int(16, 1),
      /** Messages the consumer asks JetStream for per pull. */
      PROJECTION_BATCH_SIZE: env.int(128, 1),
      /**
       * How long one pull stays open at the server. Pulls are read to their end, so this is also the
       * longest the consumer's stop waits for its open pull (nats.js: at least 1000).
       */
      PROJECTION_PULL_EXPIRES_MS: env.int(1_000, 1000),
      /**
       * Most events projected together (one transaction per read shard): those already buffered when a
       * group starts, never waited for. 1 projects every event alone. At most 1000 (one statement per
       * transaction carries all their rows). The default is a whole pull's worth (PROJECTION_BATCH_SIZE's
       * default), so what one pull brought while the slots were busy is one transaction per read shard.
       */
      PROJECTION_BATCH_MAX: z.coerce.number().int().min(1).max(1000).default(128),
      /** HMAC-SHA256 key of ListOrders page tokens; the default is for development only. */
      QUERY_CURSOR_SECRET: z.string().min(16).default('orderflow-dev-cursor-secret'),
      /** Ceiling of GetOrder's wait for min_version. */
      READ_WAIT_MAX_MS: env.int(2_000, 0),
      READ_MIGRATE_ON_START: env.bool(true),
      LOG_LEVEL: env.logLevel(),
    },
    source,
  );
  const stream = eventStreamSettings(e);
  // A dead letter the ORDERS stream captured would be consumed (and dead-lettered) again.
  if (e.DEAD_LETTER_SUBJECT === e.ORDER_EVENT_SUBJECT_PREFIX || e.DEAD_LETTER_SUBJECT.startsWith(`${e.ORDER_EVENT_SUBJECT_PREFIX}.`)) {
    throw new ConfigError([`DEAD_LETTER_SUBJECT: "${e.DEAD_LETTER_SUBJECT}" is inside the event subjects "${e.ORDER_EVENT_SUBJECT_PREFIX}.>"`]);
  }
  // A projection waiting out a switch past ack_wait would be handed to another process meanwhile.
  if (e.READ_SHARD_MOVE_MAX_WAIT_MS >= e.ACK_WAIT_MS) {
    throw new ConfigError([`READ_SHARD_MOVE_MAX_WAIT_MS: ${e.READ_SHARD_MOVE_MAX_WAIT_MS} must be below ACK_WAIT_MS (${e.ACK_WAIT_MS})`]);
  }
  return {
    grpc: { host: e.ORDER_QUERY_GRPC_HOST, port: e.ORDER_QUERY_GRPC_PORT },
    metrics: { host: e.ORDER_QUERY_METRICS_HOST, port: e.ORDER_QUERY_METRICS_PORT },
    shards: e.READ_SHARDS.map((s) => ({ ...s, user: e.READ_MYSQL_USER, password: e.READ_MYSQL_PASSWORD })),
    shardMap: e.READ_SHARD_MAP,
    shardMapPollMs: e.READ_SHARD_MAP_POLL_MS,
    shardMoveMaxWaitMs: e.READ_SHARD_MOVE_MAX_WAIT_MS,
    poolMax: e.READ_MYSQL_POOL_MAX,
    nats: {
      ...stream,
      consumer: e.ORDERS_CONSUMER,
      deadLetterSubject: e.DEAD_LETTER_SUBJECT,
      deadLetterStream: e.DEAD_LETTER_STREAM,
      maxDeliver: e.MAX_DELIVER,
      ackWaitMs: e.ACK_WAIT_MS,
    },
    projection: {
      redeliveryDelayMs: e.REDELIVERY_DELAY_MS,
      redeliveryDelayMaxMs: Math.max(e.REDELIVERY_DELAY_MS, e.REDELIVERY_DELAY_MAX_MS),
      concurrency: e.PROJECTION_CONCURRENCY,
      batchSize: e.PROJECTION_BATCH_SIZE,
      pullExpiresMs: e.PROJECTION_PULL_EXPIRES_MS,
      batchMax: e.PROJECTION_BATCH_MAX,
    },
    cursorSecret: e.QUERY_CURSOR_SECRET,
    readWaitMaxMs: e.READ_WAIT_MAX_MS,
    migrateOnStart: e.READ_MIGRATE_ON_START,
    logLevel: e.LOG_LEVEL,
  };
}

export type OrderQueryConfig = ReturnType<typeof loadConfig>;
