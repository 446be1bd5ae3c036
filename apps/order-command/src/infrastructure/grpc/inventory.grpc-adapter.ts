import { credentials, ServiceError, status } from '@grpc/grpc-js';
import { errorContract, errorDetails, inventoryV1 } from '@orderflow/proto';
import { type BatchingOptions, batchingCaller, grpcChannel, unaryCaller } from '@orderflow/service-kit';
import {
  DependencyUnavailableError,
  InsufficientStockError,
  InventoryOverloadedError,
  OrderIdTakenError,
  PriceChangedError,
  ReservationReleasedError,
  UnknownProductError,
} from '../../domain/errors';
import type { OrderItem } from '../../domain/model';
import type { InventoryPort } from '../../domain/ports';

/** The retry hint when inventory's RESOURCE_EXHAUSTED carries none. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

/**
 * InventoryPort over the generated gRPC client: one channel, errors mapped to the domain's. Calls go
 * through service-kit's unary client: each has a deadline never later than the one of the call being
 * served (inventory stops when our caller gives up) and passes its request id on. Every call this
 * adapter makes is idempotent per order id (a Reserve under the same placement, a commit or release of
 * the same reservation): one cut off (the inventory replica died mid-call) is made once more, on
 * another replica or the same one back.
 *
 * Reserves made together (concurrent placements) travel in one ReserveBatch call (service-kit's
 * batchingCaller, INVENTORY_RESERVE_LINGER_MS and INVENTORY_RESERVE_BATCH_MAX): each keeps its own
 * deadline and request id, and answers, or fails with the error its own Reserve would have, alone. An
 * inventory that does not serve ReserveBatch yet (a rolling upgrade with order-command first) answers
 * UNIMPLEMENTED, having done nothing: that batch's Reserves are made one call each, and so are all
 * Reserves for service-kit's UNARY_FALLBACK_MS; then ReserveBatch is tried again (`onFallback` is told
 * when that starts, `onSend` of every call sent).
 */
export class InventoryGrpcAdapter implements InventoryPort {
  private readonly client: inventoryV1.InventoryServiceClient;
  private readonly calls;

  constructor(address: string, deadlineMs: number, batching: BatchingOptions) {
    // The address may name several replicas: calls go round-robin over the ready ones.
    const { target, options } = grpcChannel(address);
    this.client = new inventoryV1.InventoryServiceClient(target, credentials.createInsecure(), options);
    const isCutOff = errorDetails.isCutOff;
    const call = unaryCaller(this.client, { deadlineMs, isCutOff });
    const repeatable = { repeatIfCutOff: true };
    this.calls = {
      // Only a batch call is ever UNIMPLEMENTED (every entry is a Reserve): nothing was reserved, so one Reserve each is safe.
      reserve: batchingCaller(this.client, { deadlineMs, isCutOff, ...batching })('reserveBatch', { ...repeatable, unaryFallback: 'reserve' }),
      prepareCommit: call('prepareCommit', repeatable),
      commit: call('commit', repeatable),
      release: call('release', repeatable),
    };
  }

  close(): void {
    this.client.close();
  }

  /** Makes a call; an error inventory tells about every call (short stock, busy, unreachable) becomes the domain's. */
  private async call<Req, Res>(call: (request: Req) => Promise<Res>, request: Req): Promise<Res> {
    try {
      return await call(request);
    } catch (error) {
      throw this.mapError(error as ServiceError);
    }
  }

  private mapError(error: ServiceError): Error {
    if (errorContract.reasonOf(error) === 'insufficient-stock') return new InsufficientStockError(errorDetails.readInsufficientStock(error.metadata));
    // Refused at once, before anything was held: passed on so the caller backs off.
    if (error.code === status.RESOURCE_EXHAUSTED)
      return new InventoryOverloadedError(errorDetails.readRetryAfterMs(error.metadata) ?? DEFAULT_RETRY_AFTER_MS, error.details || undefined);
    if (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED || error.code === status.ABORTED || error.code === status.CANCELLED) {
      return new DependencyUnavailableError('inventory', error);
    }
    return error;
  }

  async reserve(orderId: string, items: OrderItem[], expiresAt: Date, placementId: string): Promise<void> {
    const request: inventoryV1.ReserveRequest = {
      orderId,
      items: items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
      expiresAt,
      expectedPrices: items.map((i) => ({ productId: i.productId, unitPriceMinor: i.unitPriceMinor })),
      placementId,
    };
    try {
      await this.call(this.calls.reserve, request);
    } catch (error) {
      switch (errorContract.reasonOf(error)) {
        case 'not-found': {
          // The unknown products, from the error's structured details (a reservation that is not found names none).
          const unknown = errorDetails.readProductIds((error as ServiceError).metadata);
          if (unknown.length > 0) throw new UnknownProductError(unknown);
          break;
        }
        case 'price-changed':
          throw new PriceChangedError(
            errorDetails
              .readPriceMismatches((error as ServiceError).metadata)
              .map((m) => ({ productId: m.productId, requestedUnitPriceMinor: m.expectedUnitPriceMinor, currentUnitPriceMinor: m.currentUnitPriceMinor })),
          );
        // The id holds another placement's reservation, or a release of it: ours must use another id.
        case 'reservation-mismatch':
        case 'reservation-state':
          throw new OrderIdTakenError(orderId);
      }
      throw error;
    }
  }

  async prepareCommit(orderId: string): Promise<void> {
    try {
      await this.call(this.calls.prepareCommit, { orderId });
    } catch (error) {
      // Released (by inventory's sweeper, or a release that won), or never held: nothing to pay for.
      const reason = errorContract.reasonOf(error);
      if (reason === 'not-found' || reason === 'reservation-state') throw new ReservationReleasedError(orderId);
      throw error;
    }
  }

  async commit(orderId: string): Promise<void> {
    await this.call(this.calls.commit, { orderId });
  }

  async release(orderId: string, reason: string): Promise<void> {
    await this.call(this.calls.release, { orderId, reason });
  }
}
