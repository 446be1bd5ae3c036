import { createSequelize, createSqlPool, ensureDatabase, migrate } from '@orderflow/database';
import { connectNats, ensureStream, JetStreamPublisher, ordersStream } from '@orderflow/messaging';
import { loadPackageDefinition, orderV1 } from '@orderflow/proto';
import { ANSWER_MARGIN_MS, cappedWaitMs, createLogger, createMetricsRegistry, GrpcServer, Lifecycle, Logger, MetricsServer, PeriodicPurge } from '@orderflow/service-kit';
import { forEachShard, shardMapFromConfig, ShardRouter } from '@orderflow/sharding';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import type { OrderCommandConfig } from './config';
import { createOrderLifecycle, OrderLifecycle } from './domain/order-lifecycle.use-cases';
import { createPlaceOrder, PlaceOrder } from './domain/place-order.use-case';
import type { OrderRepository } from './domain/ports';
import { createOrderCommandGrpcHandler } from './entry-points/order-command.grpc-handler';
import { OrderSweeper } from './entry-points/order.sweeper';
import { createRetentionPurge, type PurgeResult } from './domain/retention.use-case';
import { ClaimOwnerLocks, newInstanceId } from './infrastructure/mysql/claim-owners';
import { InventoryGrpcAdapter } from './infrastructure/inventory.grpc-adapter';
import { ORDER_SHARD_MIGRATIONS } from './infrastructure/mysql/migrations';
import { createOrderCommandMetrics } from './infrastructure/order-command.metrics';
import { ShardedOrderIds } from './infrastructure/order-ids';
import { OutboxRelay, OutboxRelayHooks } from './entry-points/outbox.relay';
import { OutboxWakePublisher, outboxWakeSubject, subscribeOutboxWake } from './infrastructure/nats/outbox-wake';
import { SequelizeOrderRepository } from './infrastructure/mysql/order.repository';

export interface OrderCommandApp {
  lifecycle: Lifecycle;
  placeOrder: PlaceOrder;
  orders: OrderLifecycle;
  repository: SequelizeOrderRepository;
  /** This process's liveness on every shard, named on its claims (ADR 0006). */
  claimOwners: ClaimOwnerLocks;
  relay: OutboxRelay;
  sweeper: OrderSweeper;
  purger: PeriodicPurge<PurgeResult>;
  grpc: GrpcServer;
  logger: Logger;
  /** Prometheus metrics of this instance; served on config.metrics.port unless that is 0. */
  metrics: Registry;
}

export interface OrderCommandOptions {
  logger?: Logger;
  relayHooks?: OutboxRelayHooks;
  /** Run the outbox relay in this process (default true). */
  relay?: boolean;
  /** For fault-injection tests: wraps the repository the use cases see. */
  decorateRepository?: (repository: OrderRepository) => OrderRepository;
}

/** Between two purge batches: a backlog is deleted steadily without holding a shard's attention. */
const PURGE_PAUSE_MS = 100;
/** Batches per kind and pass: at the default batch size, up to 50,000 rows per shard a minute. */
const PURGE_MAX_BATCHES_PER_PASS = 100;

/** Composition root shared by main.ts, the tests and the benchmark. Nothing runs until lifecycle.start(). */
export function createOrderCommandApp(config: OrderCommandConfig, options: OrderCommandOptions = {}): OrderCommandApp {
  const logger = options.logger ?? createLogger('order-command', config.logLevel);
  const router = new ShardRouter(shardMapFromConfig(config.shardMap || undefined, config.shards.length));
  const shards = config.shards.map((target) => createSequelize(target, { max: config.poolMax, acquireTimeoutMs: 5_000 }));
  const sqlShards = config.shards.map((target) => createSqlPool(target, { max: config.poolMax }));
  const repository = new SequelizeOrderRepository(shards, router, config.nats.subjectPrefix, sqlShards);
  const useCaseRepository = options.decorateRepository?.(repository) ?? repository;
  const claimOwners = new ClaimOwnerLocks(config.shards, sqlShards, router, newInstanceId(), logger);
  const inventory = new InventoryGrpcAdapter(config.inventory.address, config.inventory.deadlineMs);
  const ids = new ShardedOrderIds();
  const clock = { now: () => new Date() };
  const log = { warn: (ctx: object, msg: string) => logger.warn(ctx, msg), error: (ctx: object, msg: string) => logger.error(ctx, msg) };

  const metrics = createMetricsRegistry();
  // The relay is made below; the gauges read it only when scraped.
  const counters = createOrderCommandMetrics(metrics, { outboxBacklog: () => relay.backlog(), settlementsPending: () => repository.countUnsettled() });

  let nc: NatsConnection | undefined;
  let jetStream: JetStreamPublisher | undefined;
  const publisher = {
    publish: async (subject: string, payload: Uint8Array, messageId: string, headers?: Record<string, string>) => {
      if (!jetStream) throw new Error('NATS is not connected yet');
      const ack = await jetStream.publish(subject, payload, messageId, headers);
      counters.outboxPublished.inc();
      return ack;
    },
  };
  const relay = new OutboxRelay({
    shards: sqlShards,
    publisher,
    logger,
    batchSize: config.outbox.batchSize,
    pollIntervalMs: config.outbox.pollIntervalMs,
    lingerMs: config.outbox.lingerMs,
    hooks: options.relayHooks,
  });
  const roles = new Set(config.roles);
  const runsRelay = roles.has('relay') && options.relay !== false;
  const wakeSubject = outboxWakeSubject(config.nats.stream);
  // With the relay in this process, wake it directly; otherwise wake the relay processes over NATS.
  const wakePublisher = new OutboxWakePublisher(() => nc, wakeSubject);
  const outbox = { notify: runsRelay ? () => relay.notify() : () => wakePublisher.notify() };

  const placeOrder = createPlaceOrder({
    repository: useCaseRepository,
    inventory,
    ids,
    clock,
    outbox,
    log,
    waits: { cap: (ms: number) => cappedWaitMs(ms, ANSWER_MARGIN_MS) },
    owners: claimOwners,
    settings: {
      limits: config.limits,
      paymentWindowMs: config.paymentWindowMs,
      reservationGraceMs: config.reservationGraceMs,
      inFlightWaitMs: config.idempotencyWaitMs,
      soldOutCacheMs: config.soldOutCacheMs,
    },
  });
  const orders = createOrderLifecycle({ repository: useCaseRepository, inventory, ids, clock, outbox, log, pendingTimeoutMs: config.pendingTimeoutMs, settleAfterMs: config.settleAfterMs });
  const sweeper = new OrderSweeper(orders, logger, config.sweepIntervalMs);
  const retention = createRetentionPurge({
    store: repository,
    clock,
    settings: { ...config.retention, pauseMs: PURGE_PAUSE_MS, maxBatchesPerPass: PURGE_MAX_BATCHES_PER_PASS },
  });
  // In the sweeper role; overlapping purgers in several processes are harmless (each DELETE takes what is left).
  const purger = new PeriodicPurge('retention-purger', retention.purgeOnce, (r) => r.idempotencyKeys + r.outbox, logger, config.retention.intervalMs);
  const grpc = new GrpcServer({
    host: config.grpc.host,
    port: config.grpc.port,
    services: [
      {
        name: 'orderflow.order.v1.OrderCommandService',
        definition: orderV1.OrderCommandServiceService,
        implementation: createOrderCommandGrpcHandler(placeOrder, orders, logger),
      },
    ].filter(() => roles.has('api')), // without the API role: health and reflection only
    reflection: loadPackageDefinition(),
    logger,
    metrics,
  });

  const lifecycle = new Lifecycle([
    ...(config.metrics.port > 0 ? [new MetricsServer({ ...config.metrics, registry: metrics, logger })] : []),
    {
      name: 'order-shards',
      start: async () => {
        await forEachShard(router, async (shard) => {
          const target = config.shards[shard]!;
          if (config.migrateOnStart) {
            await ensureDatabase(target);
            await migrate(target, ORDER_SHARD_MIGRATIONS);
          }
          await shards[shard]!.authenticate();
        });
      },
      stop: async () => {
        await Promise.all([...shards.map((db) => db.close()), ...sqlShards.map((pool) => pool.end())]);
      },
    },
    // Before the API (only it makes claims): claims name this process once it holds its lock on their shard.
    ...(roles.has('api') ? [claimOwners] : []),
    {
      name: 'nats',
      start: async () => {
        nc = await connectNats({ servers: config.nats.servers, name: 'order-command' });
        await ensureStream(nc, ordersStream({ name: config.nats.stream, prefix: config.nats.subjectPrefix, duplicateWindowMs: config.nats.duplicateWindowMs, maxAgeMs: config.nats.maxAgeMs, maxBytes: config.nats.maxBytes, replicas: config.nats.replicas }));
        jetStream = new JetStreamPublisher(nc, { expectedStream: config.nats.stream });
        if (runsRelay) subscribeOutboxWake(nc, wakeSubject, () => relay.notify());
      },
      stop: async () => {
        await nc?.drain();
      },
    },
    ...(runsRelay ? [relay] : []),
    ...(roles.has('sweeper') ? [sweeper, purger] : []),
    { name: 'inventory-client', start: async () => undefined, stop: async () => inventory.close() },
    grpc,
  ]);
  return { lifecycle, placeOrder, orders, repository, claimOwners, relay, sweeper, purger, grpc, logger, metrics };
}
