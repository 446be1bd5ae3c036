import { type handleUnaryCall, status } from '@grpc/grpc-js';
import { inventoryV1 } from '@orderflow/proto';
import { batchHandler, type Logger, unaryHandlers } from '@orderflow/service-kit';
import type { InventoryUseCases } from '../domain/inventory.use-cases';
import type { Product, Reservation } from '../domain/model';
import { toGrpcError } from './grpc-error.mapper';

const STATUS_TO_PROTO: Record<Reservation['status'], inventoryV1.ReservationStatus> = {
  RESERVED: inventoryV1.ReservationStatus.RESERVATION_STATUS_RESERVED,
  COMMITTED: inventoryV1.ReservationStatus.RESERVATION_STATUS_COMMITTED,
  RELEASED: inventoryV1.ReservationStatus.RESERVATION_STATUS_RELEASED,
};

const toProtoProduct = (p: Product): inventoryV1.Product => ({
  id: p.id,
  name: p.name,
  priceMinor: p.priceMinor,
  available: p.available,
  reserved: p.reserved,
  sold: p.sold,
  received: p.received,
  version: p.version,
});

const toProtoReservation = (r: Reservation): inventoryV1.Reservation => ({
  orderId: r.orderId,
  status: STATUS_TO_PROTO[r.status],
  items: r.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
  expiresAt: r.expiresAt,
  releaseReason: r.releaseReason ?? '',
});

/**
 * At debug level, one line per entry of a batch call, as the gRPC server writes one per unary call
 * (service-kit grpc-server.ts: method, status, ms), with the entry's request id: a Reserve carried in a
 * ReserveBatch is still traceable by its request id. Nothing is wrapped at other levels.
 */
function withEntryLog<Req, Res>(handler: handleUnaryCall<Req, Res>, method: string, batchMethod: string, logger: Logger): handleUnaryCall<Req, Res> {
  if (!logger.isLevelEnabled('debug')) return handler;
  return (call, callback) => {
    const started = performance.now();
    handler(call, (error, ...answer) => {
      const code = error ? (error.code ?? status.UNKNOWN) : status.OK;
      logger.debug({ method, in: batchMethod, code: status[code] ?? String(code), ms: Math.round((performance.now() - started) * 10) / 10 }, 'gRPC call');
      callback(error, ...answer);
    });
  };
}

/** Thin adapter: proto in, use case, proto out; every error through the one mapper. */
export function createInventoryGrpcHandler(useCases: InventoryUseCases, logger: Logger): inventoryV1.InventoryServiceServer {
  const unary = unaryHandlers((error, method) => toGrpcError(error, logger, method));

  const reserve = unary('Reserve', async (req: inventoryV1.ReserveRequest) => ({
    reservation: toProtoReservation(
      await useCases.reserve({
        orderId: req.orderId,
        items: req.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
        expiresAt: req.expiresAt,
        expectedPrices: req.expectedPrices.map((p) => ({ productId: p.productId, unitPriceMinor: p.unitPriceMinor })),
        placementId: req.placementId,
      }),
    ),
  }));

  return {
    upsertProduct: unary('UpsertProduct', async (req: inventoryV1.UpsertProductRequest) => {
      const { product, created } = await useCases.upsertProduct({ id: req.id, name: req.name, priceMinor: req.priceMinor, available: req.available });
      return { product: toProtoProduct(product), created };
    }),
    getProducts: unary('GetProducts', async (req: inventoryV1.GetProductsRequest) => {
      const { products, missing } = await useCases.getProducts(req.productIds);
      return { products: products.map(toProtoProduct), missingProductIds: missing };
    }),
    reserve,
    // Each entry is a Reserve of its own (same use case, same error mapping). They are handed to the use
    // case in entry order within one turn of the event loop, so a product's entries queue in the reserve
    // batcher in that order (first come, first served) and usually share one lock and one transaction.
    // (Cast: service-kit's BatchResponse declares result fields optional, ts-proto generates them required.)
    reserveBatch: batchHandler(withEntryLog(reserve, 'Reserve', 'ReserveBatch', logger)) as inventoryV1.InventoryServiceServer['reserveBatch'],
    adjustStock: unary('AdjustStock', async (req: inventoryV1.AdjustStockRequest) => {
      const adjustment = await useCases.adjustStock({ productId: req.productId, delta: req.delta, reason: req.reason, actorId: req.actorId });
      return { product: toProtoProduct(adjustment.product), adjustmentId: adjustment.id };
    }),
    prepareCommit: unary('PrepareCommit', async (req: inventoryV1.PrepareCommitRequest) => ({
      reservation: toProtoReservation(await useCases.prepareCommit(req.orderId)),
    })),
    commit: unary('Commit', async (req: inventoryV1.CommitRequest) => ({ reservation: toProtoReservation(await useCases.commit(req.orderId)) })),
    release: unary('Release', async (req: inventoryV1.ReleaseRequest) => ({
      reservation: toProtoReservation(await useCases.release(req.orderId, req.reason)),
    })),
  };
}
