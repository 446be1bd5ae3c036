import { credentials, Metadata, ServiceError, status } from '@grpc/grpc-js';
import { errorDetails, inventoryV1 } from '@orderflow/proto';
import { DependencyUnavailableError, InsufficientStockError, UnknownProductError } from '../domain/errors';
import type { InventoryPort } from '../domain/ports';

type Unary<Req, Res> = (request: Req, metadata: Metadata, options: { deadline: Date }, callback: (error: ServiceError | null, response: Res) => void) => unknown;

/** InventoryPort over the generated gRPC client: one channel, a deadline on every call, errors mapped to the domain's. */
export class InventoryGrpcAdapter implements InventoryPort {
  private readonly client: inventoryV1.InventoryServiceClient;

  constructor(
    address: string,
    private readonly deadlineMs: number,
  ) {
    this.client = new inventoryV1.InventoryServiceClient(address, credentials.createInsecure(), { 'grpc.keepalive_time_ms': 30_000 });
  }

  close(): void {
    this.client.close();
  }

  private call<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
    return new Promise((resolve, reject) =>
      method.call(this.client, request, new Metadata(), { deadline: new Date(Date.now() + this.deadlineMs) }, (error, response) =>
        error ? reject(this.mapError(error)) : resolve(response),
      ),
    );
  }

  private mapError(error: ServiceError): Error {
    if (error.code === status.FAILED_PRECONDITION && errorDetails.errorReason(error.metadata) === 'insufficient-stock') {
      return new InsufficientStockError(errorDetails.readInsufficientStock(error.metadata));
    }
    if (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED || error.code === status.ABORTED || error.code === status.CANCELLED) {
      return new DependencyUnavailableError('inventory', error);
    }
    return error;
  }

  async catalog(productIds: string[]): Promise<Map<string, { priceMinor: number; available: number }>> {
    const response = await this.call<inventoryV1.GetProductsRequest, inventoryV1.GetProductsResponse>(this.client.getProducts as never, { productIds });
    return new Map(response.products.map((p) => [p.id, { priceMinor: p.priceMinor, available: p.available }]));
  }

  async reserve(orderId: string, items: { productId: string; quantity: number }[], expiresAt: Date): Promise<void> {
    try {
      await this.call<inventoryV1.ReserveRequest, inventoryV1.ReserveResponse>(this.client.reserve as never, { orderId, items, expiresAt });
    } catch (error) {
      // A product deleted between the price check and the reservation.
      if ((error as ServiceError).code === status.NOT_FOUND) throw new UnknownProductError(items.map((i) => i.productId).filter((id) => (error as ServiceError).details.includes(id)));
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
