import { randomUUID } from 'node:crypto';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { createSequelize, dropDatabase } from '@orderflow/database';
import { connectNats, ensureStream, OrderEventKind, orderEventSubject, ordersStream } from '@orderflow/messaging';
import { orderQueryV1, orderV1 } from '@orderflow/proto';
import { createLogger, unaryCaller } from '@orderflow/service-kit';
import { bucketForCustomer, OrderIdGenerator } from '@orderflow/sharding';
import { testStack } from '@orderflow/stack';
import type { Msg } from 'nats';
import { QueryTypes, Sequelize } from 'sequelize';
import { createOrderQueryApp, OrderQueryApp, OrderQueryOptions } from '../src/app';
import { loadConfig, OrderQueryConfig } from '../src/config';
import type { OrderViewStore } from '../src/domain/ports';

type NatsConnection = Awaited<ReturnType<typeof connectNats>>;

let counter = 0;

/**
 * Four read shards spread over both MariaDB servers, and a stream (ORDERS_OQ_<pid>_<n>, subjects
 * oq<pid>_<n>.orders.v1.>), dead-letter subject and stream of its own: unique to this run.
 */
export function queryConfig(env: Record<string, string> = {}): OrderQueryConfig {
  const stack = testStack.info();
  const tag = `${process.pid}_${++counter}`;
  const shards = [0, 1, 2, 3].map((i) => `${stack.mysql[i % 2]!.host}:${stack.mysql[i % 2]!.port}/oq_read_${tag}_${i}`).join(',');
  return loadConfig({
    ORDER_QUERY_GRPC_PORT: '0',
    ORDER_QUERY_METRICS_PORT: '0', // off: tests that scrape pick a free port
    READ_SHARDS: shards,
    READ_MYSQL_USER: stack.mysql[0]!.user,
    READ_MYSQL_PASSWORD: stack.mysql[0]!.password,
    NATS_SERVERS: stack.nats.servers,
    ORDERS_STREAM: `ORDERS_OQ_${tag}`,
    // JetStream reserves max_bytes on disk per stream: test streams stay small so parallel runs fit.
    ORDERS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
    ORDER_EVENT_SUBJECT_PREFIX: `oq${tag}.orders.v1`,
    DEAD_LETTER_SUBJECT: `oq${tag}.orders.deadletter.v1`,
    DEAD_LETTER_STREAM: `ORDERS_DLQ_OQ_${tag}`,
    REDELIVERY_DELAY_MS: '100',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export function queryApi(address: string) {
  const client = new orderQueryV1.OrderQueryServiceClient(address, credentials.createInsecure());
  const call = unaryCaller(client, { deadlineMs: 30_000, isCutOff: () => false });
  return {
    client,
    // Partial requests: unset fields get their proto defaults, as a standard client would send them.
    getOrder: (request: Partial<orderQueryV1.GetOrderRequest>, deadlineMs?: number) =>
      call('getOrder', { repeatIfCutOff: false, deadlineMs })(orderQueryV1.GetOrderRequest.fromPartial(request)),
    listOrders: (request: Partial<orderQueryV1.ListOrdersRequest>) =>
      call('listOrders', { repeatIfCutOff: false })(orderQueryV1.ListOrdersRequest.fromPartial(request)),
    listAllOrders: (request: Partial<orderQueryV1.ListAllOrdersRequest>) =>
      call('listAllOrders', { repeatIfCutOff: false })(orderQueryV1.ListAllOrdersRequest.fromPartial(request)),
    getProjectionLag: (request: orderQueryV1.GetProjectionLagRequest) => call('getProjectionLag', { repeatIfCutOff: false })(request),
  };
}

export type QueryApi = ReturnType<typeof queryApi>;

export interface RunningOrderQuery {
  app: OrderQueryApp;
  api: QueryApi;
  stop(): Promise<void>;
}

/** A real order-query (gRPC on a free port, its consumer running) in this process. */
export async function startOrderQuery(config: OrderQueryConfig, options: OrderQueryOptions = {}): Promise<RunningOrderQuery> {
  const app = createOrderQueryApp(config, { logger: createLogger('order-query-test', 'silent'), ...options });
  await app.lifecycle.start();
  const api = queryApi(`127.0.0.1:${app.grpc.boundPort}`);
  return {
    app,
    api,
    async stop() {
      api.client.close();
      await app.lifecycle.stop();
    },
  };
}

export interface OrderQueryRun {
  config: OrderQueryConfig;
  feed: EventFeed;
  oq: RunningOrderQuery;
}

/**
 * For a describe block: before its tests, a run of its own (queryConfig(env)), an event feed on its stream and a
 * real order-query started with `options` (asked once the feed is open); after them, everything stopped and
 * dropped. `env` may be a function, for settings known only then (a free port).
 */
export function orderQueryRun(
  env: Record<string, string> | (() => Promise<Record<string, string>>) = {},
  options: (run: Omit<OrderQueryRun, 'oq'>) => OrderQueryOptions = () => ({}),
): OrderQueryRun {
  const run = {} as OrderQueryRun;
  beforeAll(async () => {
    run.config = queryConfig(typeof env === 'function' ? await env() : env);
    run.feed = await EventFeed.open(run.config);
    run.oq = await startOrderQuery(run.config, options(run));
  });
  afterAll(async () => {
    await run.oq?.stop();
    await run.feed?.close();
    if (run.config) await cleanUp(run.config);
  });
  return run;
}

/** The store with its projection replaced by `project` (which may call the store's own); the rest passes through. */
export const withProject = (store: OrderViewStore, project: OrderViewStore['project']): OrderViewStore => ({
  get: (id) => store.get(id),
  listByCustomer: (...args) => store.listByCustomer(...args),
  shardOf: (id) => store.shardOf(id),
  project,
});

/** Drops the run's read databases and deletes its streams (and with them the durable consumer). */
export async function cleanUp(config: OrderQueryConfig): Promise<void> {
  for (const shard of config.shards) await dropDatabase(shard);
  const nc = await connectNats({ servers: config.nats.servers, name: 'order-query-test-cleanup' });
  const jsm = await nc.jetstreamManager();
  for (const stream of [config.nats.stream, config.nats.deadLetterStream]) await jsm.streams.delete(stream).catch(() => undefined);
  await nc.close();
}

const ids = new OrderIdGenerator();

/** A real order id in the customer's bucket, as order-command makes them. */
export const newOrderId = (customerId: string) => ids.next(bucketForCustomer(customerId));

const STATUS_AFTER: Record<OrderEventKind, orderV1.OrderStatus> = {
  placed: orderV1.OrderStatus.ORDER_STATUS_RESERVED,
  paid: orderV1.OrderStatus.ORDER_STATUS_PAID,
  shipped: orderV1.OrderStatus.ORDER_STATUS_SHIPPED,
  cancelled: orderV1.OrderStatus.ORDER_STATUS_CANCELLED,
  expired: orderV1.OrderStatus.ORDER_STATUS_EXPIRED,
};

/**
 * The events order-command would publish for one order going through `kinds` (placed first):
 * versions 1, 2, ..., each carrying the whole order after the change.
 */
export function orderHistory(customerId: string, kinds: OrderEventKind[] = ['placed'], orderId = newOrderId(customerId)): orderV1.OrderEvent[] {
  const createdAt = new Date(Date.now() - 1_000);
  const items = [
    { productId: 'p-mug', quantity: 2, unitPriceMinor: 1_250 },
    { productId: 'p-tee', quantity: 1, unitPriceMinor: 1_999 },
  ];
  return kinds.map((kind, i) => {
    const version = i + 1;
    const at = new Date(createdAt.getTime() + i * 10);
    const kindField: Partial<orderV1.OrderEvent> = { [kind]: kind === 'cancelled' ? { cancelledBy: 'customer' } : {} };
    return orderV1.OrderEvent.fromPartial({
      ...kindField,
      eventId: randomUUID(),
      orderId,
      customerId,
      version,
      occurredAt: at,
      order: {
        id: orderId,
        customerId,
        status: STATUS_AFTER[kind],
        items,
        totalMinor: 4_499,
        address: '1 Projection Way',
        paymentMethod: 'card',
        version,
        createdAt,
        updatedAt: at,
        expiresAt: new Date(createdAt.getTime() + 15 * 60_000),
      },
    });
  });
}

export const kindOf = (event: orderV1.OrderEvent): OrderEventKind =>
  (['placed', 'paid', 'cancelled', 'shipped', 'expired'] as const).find((kind) => event[kind] !== undefined) ?? 'placed';

/** Publishes to the run's stream as the outbox relay would (message id = event id unless told otherwise). */
export class EventFeed {
  private constructor(
    readonly nc: NatsConnection,
    private readonly config: OrderQueryConfig,
  ) {}

  static async open(config: OrderQueryConfig): Promise<EventFeed> {
    const nc = await connectNats({ servers: config.nats.servers, name: 'order-query-test-feed' });
    const { stream, subjectPrefix, duplicateWindowMs, maxAgeMs, maxBytes } = config.nats;
    // The service's own bounds, so opening a feed never changes the stream under a running consumer.
    await ensureStream(nc, ordersStream({ name: stream, prefix: subjectPrefix, duplicateWindowMs, maxAgeMs, maxBytes }));
    return new EventFeed(nc, config);
  }

  async publish(event: orderV1.OrderEvent, msgID = event.eventId): Promise<{ duplicate: boolean; seq: number }> {
    const subject = orderEventSubject(kindOf(event), this.config.nats.subjectPrefix);
    return this.publishRaw(subject, orderV1.OrderEvent.encode(event).finish(), msgID);
  }

  async publishRaw(subject: string, data: Uint8Array, msgID: string = randomUUID()): Promise<{ duplicate: boolean; seq: number }> {
    const ack = await this.nc.jetstream().publish(subject, data, { msgID });
    return { duplicate: ack.duplicate, seq: ack.seq };
  }

  async publishAll(events: orderV1.OrderEvent[]): Promise<void> {
    await Promise.all(events.map((event) => this.publish(event)));
  }

  /** Every dead letter published from now on, until the feed closes. */
  deadLetters(): Msg[] {
    const messages: Msg[] = [];
    this.nc.subscribe(this.config.nats.deadLetterSubject, { callback: (error, msg) => !error && messages.push(msg) });
    return messages;
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}

/** Direct SQL on every read shard, to check where rows are and what they hold. */
export class ReadShards {
  readonly dbs: Sequelize[];

  constructor(config: OrderQueryConfig) {
    this.dbs = config.shards.map((target) => createSequelize(target, { max: 2 }));
  }

  async rows<T extends object>(sql: string, replacements: Record<string, unknown> = {}): Promise<T[][]> {
    return Promise.all(this.dbs.map((db) => db.query<T>(sql, { replacements, type: QueryTypes.SELECT })));
  }

  close(): Promise<void[]> {
    return Promise.all(this.dbs.map((db) => db.close()));
  }
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const value = await probe().catch((error: unknown) => void (lastError = error));
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Until the consumer has acknowledged everything in the stream. */
export const caughtUp = (api: QueryApi, timeoutMs?: number) =>
  waitFor(
    async () => {
      const lag = await api.getProjectionLag({});
      return lag.eventsBehind === 0 && lag;
    },
    'the projection to catch up',
    timeoutMs,
  );

/** The error a call fails with; an answer fails the test. */
export const failure = (call: Promise<unknown>): Promise<ServiceError> =>
  call.then(
    () => Promise.reject(new Error('expected the call to fail')),
    (error: ServiceError) => error,
  );

/** Order ids (64-bit decimal strings) newest first, as the listings order them. */
export const byIdDescending = (a: string, b: string) => (BigInt(b) > BigInt(a) ? 1 : BigInt(b) < BigInt(a) ? -1 : 0);

export const actor = (customerId: string, admin = false): orderV1.Actor => ({ customerId, admin });
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
