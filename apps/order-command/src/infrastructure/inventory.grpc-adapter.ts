import { credentials, Metadata, ServiceError, status } from '@grpc/grpc-js';
import { errorDetails, inventoryV1 } from '@orderflow/proto';
import { cappedDeadline, grpcChannel, repeatIfCutOff } from '@orderflow/service-kit';
import { DependencyUnavailableError, InsufficientStockError, InventoryOverloadedError, OrderIdTakenError, PriceChangedError, ReservationReleasedError, UnknownProductError } from '../domain/errors';
import type { OrderItem } from '../domain/model';
import type { InventoryPort } from '../domain/ports';

type Unary<Req, Res> = (request: Req, metadata: Metadata, options: { deadline: Date }, callback: (error: ServiceError | null, response: Res) => void) => unknown;

/** The retry hint when inventory's RESOURCE_EXHAUSTED carries none. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

/** InventoryPort over the generated gRPC client: one channel, a deadline on every call, errors mapped to the domain's. */
export class InventoryGrpcAdapter implements InventoryPort {
  private readonly client: inventoryV1.InventoryServiceClient;

  constructor(
    address: string,
    private readonly deadlineMs: number,
  ) {
    // The address may name several replicas: calls go round-robin over the ready ones.
    const { target, options } = grpcChannel(address);
    this.client = new inventoryV1.InventoryServiceClient(target, credentials.createInsecure(), options);
  }

  close(): void {
    this.client.close();
  }

  /**
   * Every call this adapter makes is idempotent per order id (a Reserve under the same placement, a
   * commit or release of the same reservation): one cut off (the inventory replica died mid-call) is
   * made once more, on another replica or the same one back.
   */
  private async call<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
    // Never later than the deadline of the call being served: inventory stops when our caller gives up.
    const deadline = cappedDeadline(this.deadlineMs);
    const once = () =>
      new Promise<Res>((resolve, reject) => method.call(this.client, request, new Metadata(), { deadline }, (error, response) => (error ? reject(error) : resolve(response))));
    try {
      return await repeatIfCutOff(this.client, deadline, once, errorDetails.isCutOff);
    } catch (error) {
      throw this.mapError(error as ServiceError);
    }
  }

  private mapError(error: ServiceError): Error {
    if (error.code === status.FAILED_PRECONDITION && errorDetails.errorReason(error.metadata) === 'insufficient-stock') {
      return new InsufficientStockError(errorDetails.readInsufficientStock(error.metadata));
    }
    // Refused at once, before anything was held: passed on so the caller backs off.
    if (error.code === status.RESOURCE_EXHAUSTED) return new InventoryOverloadedError(errorDetails.readRetryAfterMs(error.metadata) ?? DEFAULT_RETRY_AFTER_MS, error.details || undefined);
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
      await this.call<inventoryV1.ReserveRequest, inventoryV1.ReserveResponse>(this.client.reserve as never, request);
    } catch (error) {
      const grpcError = error as ServiceError;
      const unknown = grpcError.code === status.NOT_FOUND ? errorDetails.readProductIds(grpcError.metadata) : [];
      if (unknown.length > 0) throw new UnknownProductError(unknown);
      const reason = errorDetails.errorReason(grpcError.metadata);
      if (grpcError.code === status.FAILED_PRECONDITION && reason === 'price-changed') {
        throw new PriceChangedError(
          errorDetails.readPriceMismatches(grpcError.metadata).map((m) => ({ productId: m.productId, requestedUnitPriceMinor: m.expectedUnitPriceMinor, currentUnitPriceMinor: m.currentUnitPriceMinor })),
        );
      }
      // The id holds another placement's reservation, or a release of it: ours must use another id.
      if (grpcError.code === status.ALREADY_EXISTS || (grpcError.code === status.FAILED_PRECONDITION && reason === 'reservation-state')) throw new OrderIdTakenError(orderId);
      throw error;
    }
  }

  async prepareCommit(orderId: string): Promise<void> {
    try {
      await this.call<inventoryV1.PrepareCommitRequest, inventoryV1.PrepareCommitResponse>(this.client.prepareCommit as never, { orderId });
    } catch (error) {
      const grpcError = error as ServiceError;
      // Released (by inventory's sweeper, or a release that won), or never held: nothing to pay for.
      if (grpcError.code === status.NOT_FOUND || (grpcError.code === status.FAILED_PRECONDITION && errorDetails.errorReason(grpcError.metadata) === 'reservation-state')) {
        throw new ReservationReleasedError(orderId);
      }
      throw error;
    }
  }

  async commit(orderId: string): Promise<void> {
    await this.call<inventoryV1.CommitRequest, inventoryV1.CommitResponse>(this.client.commit as never, { orderId });
  }

  async release(orderId: string, reason: string): Promise<void> {
    await this.call<inventoryV1.ReleaseRequest, inventoryV1.ReleaseResponse>(this.client.release as never, { orderId, reason });
  }
}
