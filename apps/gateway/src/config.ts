import { DEFAULT_ORDER_LIMITS, ORDER_LIMIT_CEILINGS } from '@orderflow/proto';
import { checkTimeoutChain, ConfigError, env, readEnv } from '@orderflow/service-kit';
import { z } from 'zod';

/** The dev default for JWT_SECRET: documented in the README, refused when NODE_ENV=production. */
export const DEV_JWT_SECRET = 'orderflow-dev-secret-change-me';

/** How many placements gather in one PlaceOrderBatch call unless ORDER_COMMAND_BATCH_MAX says otherwise (fewer when they would not fit). */
const DEFAULT_BATCH_MAX = 128;

/**
 * The most placements of the largest size the order limits allow that fit in one PlaceOrderBatch call,
 * and in its answer: gRPC refuses messages over 4 MiB (grpc-js's default on both ends), and a refused
 * batch would fail every placement in it. Per placement, bytes at most: each item a 64-byte product id
 * and two varints, an address and a payment method of 4-byte characters, the key, a customer id (a
 * token's subject, 1 KiB allowed) and the entry's context; the answer's order holds the same and a little
 * more. 3.5 MiB of the 4 leave room for the framing.
 */
export function placementsThatFit(maxItems: number, limits = DEFAULT_ORDER_LIMITS): number {
  const placementBytes = 85 * maxItems + 4 * (limits.maxAddressLength + limits.maxPaymentMethodLength) + limits.maxIdempotencyKeyLength + 1_024 + 512;
  return Math.max(1, Math.floor((3.5 * 1024 * 1024) / placementBytes));
}

/** The only reader of process.env for the gateway. Defaults match `npm start`'s local system. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env) {
  const e = readEnv(
    {
      GATEWAY_HOST: env.string('127.0.0.1'),
      GATEWAY_PORT: env.port(8080),
      /** Processes sharing the HTTP port (node:cluster, for one machine); in Kubernetes or Compose, 1 per pod or container. */
      GATEWAY_WORKERS: env.int(1, 1, 64),
      ORDER_COMMAND_ADDRESS: env.string('127.0.0.1:50051'),
      ORDER_QUERY_ADDRESS: env.string('127.0.0.1:50053'),
      INVENTORY_ADDRESS: env.string('127.0.0.1:50052'),
      DOWNSTREAM_DEADLINE_MS: env.int(5_000, 10),
      /**
       * Placements gathered into one PlaceOrderBatch call to order-command: how long the first waits for
       * others (0: until the event loop has taken in what arrived, so a lone one goes at once), and at most
       * how many go in one call (1: no gathering, each is its own PlaceOrder call).
       */
      ORDER_COMMAND_BATCH_LINGER_MS: env.int(0, 0, 20),
      /** Unset: 128, or fewer when MAX_ITEMS makes placements too large for 128 in one call. */
      ORDER_COMMAND_BATCH_MAX: z.coerce.number().int().min(1).max(1_000).optional(),
      JWT_ALGORITHM: z.enum(['HS256', 'RS256']).default('HS256'),
      JWT_SECRET: env.string(DEV_JWT_SECRET),
      /** RS256: a PEM public key, or a JWKS URL whose keys are selected by the token's kid. */
      JWT_PUBLIC_KEY: z.string().optional(),
      JWT_JWKS_URL: z.string().url().optional(),
      JWT_ISSUER: z.string().optional(),
      JWT_AUDIENCE: z.string().optional(),
      MAX_BODY_BYTES: env.int(64 * 1024, 1024),
      /** Draining: how long open connections get to take their last answer before idle ones are closed. */
      DRAIN_IDLE_MS: env.int(2_000, 0),
      /** Order limits: order-command reads the same two variables (libs/proto order-limits.ts). */
      MAX_ITEMS: env.int(DEFAULT_ORDER_LIMITS.maxItems, 1, ORDER_LIMIT_CEILINGS.maxItems),
      MAX_QUANTITY: env.int(DEFAULT_ORDER_LIMITS.maxQuantity, 1, ORDER_LIMIT_CEILINGS.maxQuantity),
      MAX_PAGE_SIZE: env.int(100, 1),
      /** Read-your-writes: how long a read waits for the projection to reach this gateway's last write of an order. */
      READ_YOUR_WRITES_WAIT_MS: env.int(500, 0),
      /** How long, and for how many orders, this gateway remembers the version of its last write. */
      READ_YOUR_WRITES_TTL_MS: env.int(60_000, 1_000),
      READ_YOUR_WRITES_MAX_ORDERS: env.int(100_000, 1),
      /** Per customer (the token's sub) and gateway process: a token bucket refilled at this rate; 0 = off. */
      RATE_LIMIT_PER_SECOND: env.int(100, 0),
      /** The bucket's size: requests a customer may send at once. */
      RATE_LIMIT_BURST: env.int(1_000, 1),
      /** Requests in progress at once in this process (ops routes excluded); beyond it 503 at once; 0 = off. */
      MAX_IN_FLIGHT_REQUESTS: env.int(2_048, 0),
      NODE_ENV: z.string().default('development'),
      LOG_LEVEL: env.logLevel(),
    },
    source,
  );
  if (e.NODE_ENV === 'production' && e.JWT_ALGORITHM === 'HS256' && e.JWT_SECRET === DEV_JWT_SECRET) {
    throw new Error('invalid configuration:\n  JWT_SECRET: the dev default is refused when NODE_ENV=production');
  }
  if (e.JWT_ALGORITHM === 'RS256' && !e.JWT_PUBLIC_KEY && !e.JWT_JWKS_URL) {
    throw new Error('invalid configuration:\n  JWT_PUBLIC_KEY or JWT_JWKS_URL: RS256 needs one of them');
  }
  const fit = placementsThatFit(e.MAX_ITEMS);
  const batchMax = e.ORDER_COMMAND_BATCH_MAX ?? Math.min(DEFAULT_BATCH_MAX, fit);
  if (batchMax > fit) {
    throw new ConfigError([
      `ORDER_COMMAND_BATCH_MAX (${batchMax}) must be at most ${fit}: that many placements of MAX_ITEMS (${e.MAX_ITEMS}) items fit in one 4 MiB gRPC message`,
    ]);
  }
  checkTimeoutChain([
    {
      inner: ['READ_YOUR_WRITES_WAIT_MS', e.READ_YOUR_WRITES_WAIT_MS],
      outer: ['DOWNSTREAM_DEADLINE_MS', e.DOWNSTREAM_DEADLINE_MS],
      why: "order-query waits for the projection inside the gateway's call to it, which must leave time for the fallback read",
    },
  ]);
  return {
    http: { host: e.GATEWAY_HOST, port: e.GATEWAY_PORT, maxBodyBytes: e.MAX_BODY_BYTES, drainIdleMs: e.DRAIN_IDLE_MS },
    workers: e.GATEWAY_WORKERS,
    downstream: {
      orderCommand: e.ORDER_COMMAND_ADDRESS,
      orderQuery: e.ORDER_QUERY_ADDRESS,
      inventory: e.INVENTORY_ADDRESS,
      deadlineMs: e.DOWNSTREAM_DEADLINE_MS,
      placeOrderBatch: { lingerMs: e.ORDER_COMMAND_BATCH_LINGER_MS, maxEntries: batchMax },
    },
    jwt: {
      algorithm: e.JWT_ALGORITHM,
      secret: e.JWT_SECRET,
      publicKey: e.JWT_PUBLIC_KEY,
      jwksUrl: e.JWT_JWKS_URL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
    },
    limits: { ...DEFAULT_ORDER_LIMITS, maxItems: e.MAX_ITEMS, maxQuantity: e.MAX_QUANTITY, maxPageSize: e.MAX_PAGE_SIZE },
    readYourWrites: { waitMs: e.READ_YOUR_WRITES_WAIT_MS, ttlMs: e.READ_YOUR_WRITES_TTL_MS, maxOrders: e.READ_YOUR_WRITES_MAX_ORDERS },
    backpressure: { ratePerSecond: e.RATE_LIMIT_PER_SECOND, rateBurst: e.RATE_LIMIT_BURST, maxInFlight: e.MAX_IN_FLIGHT_REQUESTS },
    logLevel: e.LOG_LEVEL,
  };
}

export type GatewayConfig = ReturnType<typeof loadConfig>;
