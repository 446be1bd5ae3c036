import { loadPackageDefinition, orderV1 } from '@orderflow/proto';
import {
  ANSWER_MARGIN_MS,
  cappedWaitMs,
  createLogger,
  createMetricsRegistry,
  GrpcServer,
  Lifecycle,
  Logger,
  MetricsServer,
  PeriodicPurge,
  UNARY_FALLBACK_MS,
} from '@orderflow/service-kit';
import { LiveShardMap } from '@orderflow/shard-control';
import { shardMapFromConfig, ShardRouter } from '@orderflow/sharding';
import type { Registry } from 'prom-client';
import type { OrderCommandConfig } from './config';
import { createOrderLifecycle, OrderLifecycle } from './domain/order-lifecycle.use-cases';
import type { ClaimOwners, Clock, InventoryPort, OrderRepository, OutboxSignal } from './domain/ports';
import { createPlaceOrder, PlaceOrder } from './domain/place-order.use-case';
import type { PurgeResult } from './domain/retention.use-case';
import { createOrderCommandGrpcHandler } from './entry-points/order-command.grpc-handler';
import { OutboxRelay, OutboxRelayHooks } from './entry-points/outbox.relay';
import { OrderSweeper } from './entry-points/order.sweeper';
import { createRetentionPurger } from './entry-points/retention.purger';
import { InventoryGrpcAdapter } from './infrastructure/grpc/inventory.grpc-adapter';
import { ClaimOwnerLocks, newInstanceId } from './infrastructure/mysql/claim-owners';
import { MysqlOrderRepository } from './infrastructure/mysql/order.repository';
import { OrderShards } from './infrastructure/mysql/order-shards';
import { MysqlOutboxStore } from './infrastructure/mysql/outbox.store';
import { JetStreamEventPublisher } from './infrastructure/nats/event.publisher';
import { OrdersNats } from './infrastructure/nats/orders.nats';
import { createOrderCommandMetrics, createShardFenceMetrics } from './infrastructure/order-command.metrics';
import { ShardedOrderIds } from './infrastructure/order-ids';

export interface OrderCommandApp {
  lifecycle: Lifecycle;
  placeOrder: PlaceOrder;
  orders: OrderLifecycle;
  repository: MysqlOrderRepository;
  /** The live order shard map every routed call reads (ADR 0009); the configured map is only its seed. */
  shardMap: LiveShardMap;
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

/**
 * Composition root shared by main.ts, the tests and the benchmark: infrastructure (MySQL shards, NATS,
 * inventory) under the use cases, and the entry points this process's roles run over them: the gRPC
 * API, the outbox relay, the sweeper and the retention purger. Nothing runs until lifecycle.start().
 */
export function createOrderCommandApp(config: OrderCommandConfig, options: OrderCommandOptions = {}): OrderCommandApp {
  const logger = options.logger ?? createLogger('order-command', config.logLevel);
  const roles = new Set(config.roles);
  const runsRelay = roles.has('relay') && options.relay !== false;
  const clock: Clock = { now: () => new Date() };

  // Infrastructure: one pool per order shard (ADR 0008) and the live map over them (ADR 0009), NATS, inventory.
  const seed = new ShardRouter(shardMapFromConfig(config.shardMap || undefined, config.shards.length));
  const shards = new OrderShards(config.shards, seed, { poolMax: config.poolMax, migrateOnStart: config.migrateOnStart });
  const instanceId = newInstanceId();
  const shardMap = new LiveShardMap(shards.pools, seed, { instance: instanceId, pollMs: config.shardMapPollMs, log: logger });
  const metrics = createMetricsRegistry();
  const fenceMetrics = createShardFenceMetrics(metrics, () => shardMap.heldVersion);
  const repository = new MysqlOrderRepository(shards.pools, shardMap, config.nats.subjectPrefix, {
    // A write waits out a bucket's switch for the configured bound, never past the call's deadline.
    maxWaitMs: () => cappedWaitMs(config.shardMoveMaxWaitMs, ANSWER_MARGIN_MS),
    onFenced: () => fenceMetrics.fencedWrites.inc(),
    onFenceWait: (ms) => fenceMetrics.fenceWait.observe(ms / 1000),
  });
  const outboxStore = new MysqlOutboxStore(shards.pools);
  const claimOwners = new ClaimOwnerLocks(config.shards, shards.pools, shardMap, instanceId, logger);
  const nats = new OrdersNats(config.nats);
  const counters = createOrderCommandMetrics(metrics, {
    outboxBacklog: () => outboxStore.countUnsent(),
    settlementsPending: () => repository.countUnsettled(),
  });
  const inventory = new InventoryGrpcAdapter(config.inventory.address, config.inventory.deadlineMs, {
    ...config.inventory.reserveBatching,
    // The histogram counts ReserveBatch calls; the fallback's one-Reserve calls are not batches.
    onSend: (entries, via) => {
      if (via === 'batch') counters.reserveBatchEntries.observe(entries);
    },
    onFallback: (err) =>
      logger.warn({ err }, `inventory does not serve ReserveBatch (an older version): Reserves go one call each for ${UNARY_FALLBACK_MS / 1000} s`),
  });

  // Entry points and the use cases they drive.
  const relay = new OutboxRelay({
    store: outboxStore,
    publisher: new JetStreamEventPublisher(
      () => nats.jetStream,
      () => counters.outboxPublished.inc(),
    ),
    logger,
    onBatch: (events) => counters.relayBatchEvents.observe(events),
    ...config.outbox,
    hooks: options.relayHooks,
  });
  // With the relay in this process, wake it directly; otherwise wake the relay processes over NATS.
  const outbox: OutboxSignal = { notify: runsRelay ? () => relay.notify() : () => nats.wakePublisher.notify() };
  if (runsRelay) nats.onOutboxWake(() => relay.notify());
  const useCaseRepository = options.decorateRepository?.(repository) ?? repository;
  const { placeOrder, orders } = createUseCases(config, { repository: useCaseRepository, inventory, clock, outbox, claimOwners, logger });
  const sweeper = new OrderSweeper(orders, logger, config.sweepIntervalMs);
  const purger = createRetentionPurger(repository, clock, config.retention, logger);
  const grpc = createGrpcServer(config, roles.has('api') ? createOrderCommandGrpcHandler(placeOrder, orders, logger, metrics) : undefined, logger, metrics);

  // Started in this order, stopped in reverse: what the entry points need, then the entry points of this process's roles.
  const lifecycle = new Lifecycle([
    ...(config.metrics.port > 0 ? [new MetricsServer({ ...config.metrics, registry: metrics, logger })] : []),
    shards,
    // Before anything that writes or serves: every routed call reads it.
    shardMap,
    // Before the API (only it makes claims): claims name this process once it holds its lock on their shard.
    ...(roles.has('api') ? [claimOwners] : []),
    nats,
    ...(runsRelay ? [relay] : []), // role relay
    ...(roles.has('sweeper') ? [sweeper, purger] : []), // role sweeper
    { name: 'inventory-client', start: async () => undefined, stop: async () => inventory.close() },
    grpc, // health and reflection always; the API with role api
  ]);
  return { lifecycle, placeOrder, orders, repository, shardMap, claimOwners, relay, sweeper, purger, grpc, logger, metrics };
}

interface UseCaseDeps {
  repository: OrderRepository;
  inventory: InventoryPort;
  clock: Clock;
  outbox: OutboxSignal;
  claimOwners: ClaimOwners;
  logger: Logger;
}

/** The placement and the order lifecycle after it, over the ports they share. */
function createUseCases(config: OrderCommandConfig, { repository, inventory, clock, outbox, claimOwners, logger }: UseCaseDeps) {
  const ids = new ShardedOrderIds();
  const log = { warn: (ctx: object, msg: string) => logger.warn(ctx, msg), error: (ctx: object, msg: string) => logger.error(ctx, msg) };
  const placeOrder = createPlaceOrder({
    repository,
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
  const { pendingTimeoutMs, settleAfterMs } = config;
  const orders = createOrderLifecycle({ repository, inventory, ids, clock, outbox, log, pendingTimeoutMs, settleAfterMs });
  return { placeOrder, orders };
}

/** Health and reflection always; the OrderCommandService only with the API role (`handler`). */
function createGrpcServer(config: OrderCommandConfig, handler: orderV1.OrderCommandServiceServer | undefined, logger: Logger, metrics: Registry): GrpcServer {
  return new GrpcServer({
    host: config.grpc.host,
    port: config.grpc.port,
    services: handler ? [{ name: 'orderflow.order.v1.OrderCommandService', definition: orderV1.OrderCommandServiceService, implementation: handler }] : [],
    reflection: loadPackageDefinition(),
    logger,
    metrics,
  });
}
