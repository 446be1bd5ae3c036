/**
 * For `npm run bench:grpc-wins`'s "fresh Metadata per call": the generated stub with Reserve given a new
 * Metadata on every call, whatever unaryCaller passes (its shared empty one for a call without a request
 * id): what unaryCaller did before 0328ef3. The rest of the stub is the client's own (its prototype).
 */
import { type CallOptions, Metadata } from '@grpc/grpc-js';
import type { inventoryV1 } from '@orderflow/proto';

export function withFreshMetadata(client: inventoryV1.InventoryServiceClient): inventoryV1.InventoryServiceClient {
  const stub = Object.create(client) as inventoryV1.InventoryServiceClient;
  const reserve = (request: inventoryV1.ReserveRequest, _metadata: Metadata, options: Partial<CallOptions>, callback: Parameters<typeof client.reserve>[3]) =>
    client.reserve(request, new Metadata(), options, callback);
  stub.reserve = reserve as typeof client.reserve;
  return stub;
}
