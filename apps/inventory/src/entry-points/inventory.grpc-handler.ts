import { inventoryV1 } from '@orderflow/proto';
import { batchHandler, type Logger, unaryHandlers } from '@orderflow/service-kit';
import type { Registry } from 'prom-client';
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
 * Thin adapter: proto in, use case, proto out; every error through the one mapper. Each entry of a
 * ReserveBatch is counted, logged and traced as a Reserve call (`metrics`: the registry the gRPC server's
 * metrics are in).
 */
export function createInventoryGrpcHandler(useCases: InventoryUseCases, logger: Logger, metrics?: Registry): inventoryV1.InventoryServiceServer {
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
    reserveBatch: batchHandler(reserve, { metrics, logger }) as inventoryV1.InventoryServiceServer['reserveBatch'],
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
