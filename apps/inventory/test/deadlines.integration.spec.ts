import { credentials, ServiceError, status } from '@grpc/grpc-js';
import { inventoryV1 } from '@orderflow/proto';
import { unaryCaller } from '@orderflow/service-kit';
import { testStack } from '@orderflow/stack';
import Redis from 'ioredis';
import { lockKey } from '../src/infrastructure/redis/redlock.stock-locks';
import { inMinutes, RunningInventory, startInventory } from './support';

/** The deadline of a call caps inventory's own waits (docs/operations.md, timeout chain). Real MariaDB and Redis. */
describe("inventory under its caller's deadline", () => {
  let inv: RunningInventory;
  let redis: Redis[];
  beforeAll(async () => {
    inv = await startInventory({ env: { INVENTORY_RESERVE_MODE: 'locked' } });
    redis = testStack.info().redis.map((r) => new Redis({ host: r.host, port: r.port, lazyConnect: true }));
  });
  afterAll(async () => {
    for (const client of redis) client.disconnect();
    await inv.stop();
  });

  it("when a Reserve waits for a lock held elsewhere and its caller gives it less than INVENTORY_LOCK_WAIT_MS, then it is ABORTED before the caller's deadline and holds nothing", async () => {
    await inv.api.upsertProduct({ id: 'held-1', name: 'Held', priceMinor: 100, available: 5 });
    // Another holder has the product's lock (on every Redis master) for longer than the call lasts.
    for (const client of redis) await client.set(lockKey('held-1'), 'someone-else', 'PX', 10_000);
    const client = new inventoryV1.InventoryServiceClient(inv.address, credentials.createInsecure());
    try {
      // INVENTORY_LOCK_WAIT_MS is 2 s; this caller (order-command's INVENTORY_DEADLINE_MS, say) gives 1 s.
      const reserve = unaryCaller(client, { deadlineMs: 1_000, isCutOff: () => false })('reserve', { repeatIfCutOff: false });
      const error = await reserve({
        orderId: 'held-o1',
        items: [{ productId: 'held-1', quantity: 1 }],
        expiresAt: inMinutes(5),
        expectedPrices: [],
        placementId: '',
      }).then(
        () => undefined,
        (e: ServiceError) => e,
      );
      expect(error?.code).toBe(status.ABORTED);
      expect((await inv.api.getProducts({ productIds: ['held-1'] })).products[0]).toMatchObject({ available: 5, reserved: 0 });
    } finally {
      client.close();
      for (const c of redis) await c.del(lockKey('held-1'));
    }
  });
});
