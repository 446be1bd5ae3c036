import { createSqlPool, ensureDatabase, migrate, SqlPool } from '@orderflow/database';
import { loadPackageDefinition, orderQueryV1 } from '@orderflow/proto';
import { type Component, createLogger, createMetricsRegistry, GrpcServer, Lifecycle, type Logger, MetricsServer } from '@orderflow/service-kit';
import { LiveShardMap } from '@orderflow/shard-control';
import { forEachShard, shardMapFromConfig, ShardRouter } from '@orderflow/sharding';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { OrderQueryConfig } from './config';
import { createGetProjectionLag, GetProjectionLag } from './domain/get-projection-lag.use-case';
import { createListAllOrders, ListAllOrders } from './domain/list-all-orders.use-case';
import { createOrderQueries, OrderQueries } from './domain/order-queries.use-cases';
import { createPageCursors } from './domain/page-cursor';
import type { OrderShardReader, OrderViewStore } from './domain/ports';
import { createProjectOrderEvents } from './domain/project-order-events.use-case';
import { ProjectionStats } from './domain/projection';
import { OrderEventsConsumer } from './entry-points/order-events.consumer';
import { createOrderQueryGrpcHandler } from './entry-points/order-query.grpc-handler';
import { READ_SHARD_MIGRATIONS } from './infrastructure/mysql/migrations/0001-create-read-shard';
import { MysqlOrderViewStore } from './infrastructure/mysql/order-view.store';
import { DeadLetterPublisher } from './infrastructure/nats/dead-letter.publisher';
import { JetStreamConsumerProgress } from './infrastructure/nats/jetstream.consumer-progress';
import { decodeOrderEvent } from './infrastructure/nats/order-event.codec';
import { OrderStreamConnection } from './infrastructure/nats/order-stream.connection';
import { createOrderQueryMetrics } from './infrastructure/order-query.metrics';

export interface OrderQueryApp {
  lifecycle: Lifecycle;
  queries: OrderQueries;
  listAllOrders: ListAllOrders;
  getProjectionLag: GetProjectionLag;
  consumer: OrderEventsConsumer;
  stats: ProjectionStats;
  store: MysqlOrderViewStore;
  /** The live read-shard map (ADR 0009): read at start, polled, refreshed when a fence refuses a projection. */
  shardMap: LiveShardMap;
  grpc: GrpcServer;
  logger: Logger;
  /** Prometheus metrics of this instance; served on config.metrics.port unless that is 0. */
  metrics: Registry;
}

export interface OrderQueryOptions {
  logger?: Logger;
  /** For fault-injection tests: wraps the store the projection writes through. */
  decorateStore?: (store: OrderViewStore) => OrderViewStore;
  /** For tests that watch the admin listing's per-shard reads: wraps the reader it reads through. */
  decorateShardReader?: (reader: OrderShardReader) => OrderShardReader;
}

/** Composition root shared by main.ts and the tests. Nothing runs until lifecycle.start(). */
export function createOrderQueryApp(config: OrderQueryConfig, options: OrderQueryOptions = {}): OrderQueryApp {
  const logger = options.logger ?? createLogger('order-query', config.logLevel);
  // The configured map seeds the live one on empty read shards only (ADR 0009); the stored map wins after that.
  const router = new ShardRouter(shardMapFromConfig(config.shardMap || undefined, config.shards.length));
  // One pool per read shard serves every query and the projection.
  const pools = config.shards.map((target) => createSqlPool(target, { max: config.poolMax }));
  const shardMap = new LiveShardMap(pools, router, {
    // One per process (several apps may share a test process): a move's drain waits for each.
    instance: `order-query@${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    pollMs: config.shardMapPollMs,
    log: logger,
  });
  const metrics = createMetricsRegistry();
  // The lag gauges call getProjectionLag (made below) only when scraped.
  const instrument = createOrderQueryMetrics(
    metrics,
    () => getProjectionLag(),
    () => shardMap.heldVersion,
  );
  const store = new MysqlOrderViewStore(pools, shardMap, { maxWaitMs: config.shardMoveMaxWaitMs, onFenced: instrument.fencedWrite });
  const clock = { now: () => new Date() };
  const stats = new ProjectionStats();
  const nats = new OrderStreamConnection(config.nats, logger);

  const consumer = new OrderEventsConsumer({
    openConsumer: () => nats.openConsumer(),
    decode: decodeOrderEvent,
    project: instrument.projection(
      createProjectOrderEvents({
        store: options.decorateStore?.(store) ?? store,
        stats,
        clock,
        // Expected now and then (two processes inserting one order); the events are then projected one by one.
        onFallback: (error, events) => logger.debug({ err: error, events }, 'projection batch failed; projecting its events one by one'),
      }),
    ),
    deadLetters: instrument.deadLetters(new DeadLetterPublisher(() => nats.jetStream, config.nats.deadLetterSubject)),
    stats,
    logger,
    settlement: {
      maxDeliver: config.nats.maxDeliver,
      redeliveryDelayMs: config.projection.redeliveryDelayMs,
      redeliveryDelayMaxMs: config.projection.redeliveryDelayMaxMs,
    },
    concurrency: config.projection.concurrency,
    batchSize: config.projection.batchSize,
    pullExpiresMs: config.projection.pullExpiresMs,
    groupMax: config.projection.batchMax,
    onApplied: (timing) => instrument.applied(timing),
  });

  const cursors = createPageCursors(config.cursorSecret);
  const queries = createOrderQueries({ store, cursors, clock, readWaitMaxMs: config.readWaitMaxMs });
  const listAllOrders = createListAllOrders({ reader: options.decorateShardReader?.(store) ?? store, cursors });
  const progress = new JetStreamConsumerProgress(() => nats.manager, config.nats.stream, config.nats.consumer);
  const getProjectionLag = createGetProjectionLag({ progress, stats, clock });
  const grpc = new GrpcServer({
    host: config.grpc.host,
    port: config.grpc.port,
    services: [
      {
        name: 'orderflow.order_query.v1.OrderQueryService',
        definition: orderQueryV1.OrderQueryServiceService,
        implementation: createOrderQueryGrpcHandler({ queries, listAllOrders, getProjectionLag }, logger),
      },
    ],
    reflection: loadPackageDefinition(),
    logger,
    metrics,
  });

  const metricsServer = config.metrics.port > 0 ? [new MetricsServer({ ...config.metrics, registry: metrics, logger })] : [];
  // The map after the pools (it reads shard 0) and before anything that routes: the consumer and the gRPC server.
  const lifecycle = new Lifecycle([...metricsServer, readShards(config, router, pools), shardMap, nats, consumer, grpc]);
  return { lifecycle, queries, listAllOrders, getProjectionLag, consumer, stats, store, shardMap, grpc, logger, metrics };
}

/** At start: migrates every read shard (when configured) and checks it answers; at stop: closes the pools. */
function readShards(config: OrderQueryConfig, router: ShardRouter, pools: SqlPool[]): Component {
  return {
    name: 'read-shards',
    start: async () => {
      await forEachShard(router, async (shard) => {
        const target = config.shards[shard]!;
        if (config.migrateOnStart) {
          await ensureDatabase(target);
          await migrate(target, READ_SHARD_MIGRATIONS);
        }
        await pools[shard]!.ping();
      });
    },
    stop: async () => {
      await Promise.all(pools.map((pool) => pool.end()));
    },
  };
}
