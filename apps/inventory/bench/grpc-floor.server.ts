/**
 * The gRPC floor that `npm run bench:inventory` measures beside inventory: InventoryService on the same
 * GrpcServer (metrics interceptor, health, reflection) and the same unary adapter as the real service,
 * whose Reserve (and ReserveBatch, entry by entry) answers at once: no batcher, no lock, no SQL. Reserve/s against it is what grpc-js
 * allows on this box at that concurrency, with the load generator on the same cores; the gap between it
 * and the real Reserve is the work inventory does. A benchmark baseline, never served by the system.
 *   GRPC_FLOOR_PORT=50153 tsx apps/inventory/bench/grpc-floor.server.ts
 * `npm run bench:grpc-wins` undoes one of issue 14's cheap wins at a time with these (unset: as shipped):
 *   GRPC_FLOOR_CHANNELZ=1          channelz on (grpc.enable_channelz 1 over LEAN_GRPC_OPTIONS);
 *   GRPC_FLOOR_METRICS=per-call    the metrics interceptor as before, making its labels on every call;
 *   GRPC_FLOOR_LOG_LEVEL=debug     the logger at debug: GrpcServer's call log, one line per call (on stdout).
 */
import { status } from '@grpc/grpc-js';
import { inventoryV1, loadPackageDefinition } from '@orderflow/proto';
import { batchHandler, createLogger, createMetricsRegistry, GrpcServer, unaryHandlers } from '@orderflow/service-kit';
import { perCallLabelsMetrics } from './per-call-labels.metrics';

const logger = createLogger('grpc-floor', process.env.GRPC_FLOOR_LOG_LEVEL ?? 'warn');
const metrics = createMetricsRegistry();
const perCallLabels = process.env.GRPC_FLOOR_METRICS === 'per-call';
const unary = unaryHandlers((error) => ({ code: status.UNIMPLEMENTED, details: String(error) }));
const unimplemented = (method: string) => unary(method, () => Promise.reject(new Error(`${method} is not part of the floor`)));

const reserve = unary('Reserve', async (req: inventoryV1.ReserveRequest) => ({
  reservation: {
    orderId: req.orderId,
    status: inventoryV1.ReservationStatus.RESERVATION_STATUS_RESERVED,
    items: req.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
    expiresAt: req.expiresAt,
    releaseReason: '',
  },
}));

const implementation: inventoryV1.InventoryServiceServer = {
  reserve,
  // The same batch adapter as inventory's, over the Reserve that answers at once.
  reserveBatch: batchHandler(reserve, { metrics, logger }) as inventoryV1.InventoryServiceServer['reserveBatch'],
  // Answers at once too, so the benchmark's readiness probe works as it does against inventory.
  getProducts: unary('GetProducts', async (req: inventoryV1.GetProductsRequest) => ({ products: [], missingProductIds: req.productIds })),
  upsertProduct: unimplemented('UpsertProduct'),
  prepareCommit: unimplemented('PrepareCommit'),
  commit: unimplemented('Commit'),
  release: unimplemented('Release'),
  adjustStock: unimplemented('AdjustStock'),
};

const server = new GrpcServer({
  host: '127.0.0.1',
  port: Number(process.env.GRPC_FLOOR_PORT ?? 50153),
  services: [{ name: 'orderflow.inventory.v1.InventoryService', definition: inventoryV1.InventoryServiceService, implementation }],
  reflection: loadPackageDefinition(),
  logger,
  // With per-call labels, the old interceptor instead of GrpcServer's own (same metrics, same registry).
  metrics: perCallLabels ? undefined : metrics,
  channelOptions: {
    ...(process.env.GRPC_FLOOR_CHANNELZ === '1' ? { 'grpc.enable_channelz': 1 } : {}),
    ...(perCallLabels ? { interceptors: [perCallLabelsMetrics(metrics)] } : {}),
  },
});

server.start().catch((error: unknown) => {
  logger.fatal({ err: error }, 'grpc floor failed to start');
  process.exit(1);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void server.stop().then(() => process.exit(0)));
