import { Server, ServerCredentials, type ServiceError, status } from '@grpc/grpc-js';
import { errorContract, inventoryV1 } from '@orderflow/proto';
import { UNARY_FALLBACK_MS } from '@orderflow/service-kit';
import { InsufficientStockError } from '../../domain/errors';
import { InventoryGrpcAdapter } from './inventory.grpc-adapter';

/**
 * An inventory of the version before ReserveBatch: a gRPC server that implements only Reserve (grpc-js
 * answers every other method UNIMPLEMENTED), holding 1 unit of each product and refusing the rest.
 */
async function inventoryWithoutReserveBatch() {
  const reserved: string[] = [];
  const held = new Set<string>();
  const server = new Server();
  server.addService(inventoryV1.InventoryServiceService, {
    reserve: (
      call: { request: inventoryV1.ReserveRequest },
      callback: (error: Partial<ServiceError> | null, response?: inventoryV1.ReserveResponse) => void,
    ) => {
      const { orderId, items, expiresAt } = call.request;
      const productId = items[0]!.productId;
      if (held.has(productId)) {
        return callback(
          errorContract.toServiceError('insufficient-stock', `${productId} is short`, { shortages: [{ productId, requested: 1, available: 0 }] }),
        );
      }
      held.add(productId);
      reserved.push(orderId);
      callback(null, { reservation: { orderId, status: inventoryV1.ReservationStatus.RESERVATION_STATUS_RESERVED, items, expiresAt, releaseReason: '' } });
    },
  } as unknown as inventoryV1.InventoryServiceServer);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, reserved, close: () => server.forceShutdown() };
}

/** An adapter that records every call it sends (entries, batch or unary) and every fallback it warns of. */
function recordingAdapter(address: string) {
  const sent: [number, 'batch' | 'unary'][] = [];
  const fallbacks: ServiceError[] = [];
  const adapter = new InventoryGrpcAdapter(address, 5_000, {
    lingerMs: 0,
    maxEntries: 100,
    onSend: (entries, via) => sent.push([entries, via]),
    onFallback: (error) => fallbacks.push(error),
  });
  return { adapter, sent, fallbacks };
}

describe('InventoryGrpcAdapter against an inventory without ReserveBatch (rolling upgrade, order-command first)', () => {
  it('when ReserveBatch is UNIMPLEMENTED, then that batch goes one Reserve each, errors mapped as before, later Reserves go one call each, every call sent reported with its size and warned of once', async () => {
    const inventory = await inventoryWithoutReserveBatch();
    const { adapter, sent, fallbacks } = recordingAdapter(inventory.address);
    try {
      const expiresAt = new Date(Date.now() + 60_000);
      const line = (productId: string) => [{ productId, quantity: 1, unitPriceMinor: 100 }];
      const outcomes = await Promise.allSettled([
        adapter.reserve('o-1', line('p-1'), expiresAt, 'pl-1'),
        adapter.reserve('o-2', line('p-2'), expiresAt, 'pl-2'),
        adapter.reserve('o-3', line('p-1'), expiresAt, 'pl-3'),
      ]);
      // The three were sent as one ReserveBatch, refused as a whole, then made one Reserve each.
      expect(sent).toEqual([
        [3, 'batch'],
        [1, 'unary'],
        [1, 'unary'],
        [1, 'unary'],
      ]);
      expect(fallbacks.map((e) => e.code)).toEqual([status.UNIMPLEMENTED]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
      const refusal = (outcomes[2] as PromiseRejectedResult).reason;
      expect(refusal).toBeInstanceOf(InsufficientStockError);
      expect((refusal as InsufficientStockError).shortages).toEqual([{ productId: 'p-1', requested: 1, available: 0 }]);
      expect(inventory.reserved.sort()).toEqual(['o-1', 'o-2']);
      // Within UNARY_FALLBACK_MS no ReserveBatch is tried: straight to Reserve.
      expect(UNARY_FALLBACK_MS).toBeGreaterThan(10_000);
      await adapter.reserve('o-4', line('p-4'), expiresAt, 'pl-4');
      expect(sent.slice(4)).toEqual([[1, 'unary']]);
      expect(fallbacks).toHaveLength(1);
      expect(inventory.reserved).toContain('o-4');
    } finally {
      adapter.close();
      inventory.close();
    }
  });

  it('when the fallback time has passed, then ReserveBatch is tried again', async () => {
    const inventory = await inventoryWithoutReserveBatch();
    const { adapter, sent, fallbacks } = recordingAdapter(inventory.address);
    const now = jest.spyOn(Date, 'now');
    try {
      const expiresAt = new Date(Date.now() + 60_000);
      await adapter.reserve('o-1', [{ productId: 'p-1', quantity: 1, unitPriceMinor: 100 }], expiresAt, 'pl-1');
      const later = Date.now() + UNARY_FALLBACK_MS + 1;
      now.mockImplementation(() => later);
      await adapter.reserve('o-2', [{ productId: 'p-2', quantity: 1, unitPriceMinor: 100 }], new Date(later + 60_000), 'pl-2');
      expect(sent).toEqual([
        [1, 'batch'],
        [1, 'unary'],
        [1, 'batch'],
        [1, 'unary'],
      ]);
      expect(fallbacks).toHaveLength(2);
      expect(inventory.reserved).toEqual(['o-1', 'o-2']);
    } finally {
      now.mockRestore();
      adapter.close();
      inventory.close();
    }
  });
});
