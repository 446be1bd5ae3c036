import net from 'node:net';
import { ServiceError, status } from '@grpc/grpc-js';
import { errorDetails, orderV1 } from '@orderflow/proto';
import { unaryCaller } from '@orderflow/service-kit';
import { testStack } from '@orderflow/stack';
import type { OrderRepository } from '../src/domain/ports';
import { orderCommandRun } from './support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One Redis command over RESP (the inventory process's Redis is the test stack's first master). */
function redis(...args: string[]): Promise<string> {
  const { host, port } = testStack.info().redis[0]!;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    socket.once('data', (data) => {
      socket.end();
      resolve(data.toString());
    });
    socket.once('error', reject);
  });
}
/** Inventory's Redlock key for a product (apps/inventory/src/infrastructure/redis/redlock.stock-locks.ts). */
const lockKey = (productId: string) => `orderflow:inventory:lock:product:${productId}`;

/** The deadline of a call to order-command caps what it does for that call (docs/operations.md, timeout chain). */
describe("the caller's deadline reaches order-command (real MariaDB x2, NATS and the inventory process)", () => {
  /** The first placement with this key stays in flight (its completion is held back) until released. */
  let holdKey = '';
  let releaseHeld: () => void = () => undefined;
  // Released before the service stops: a held placement would keep it from stopping.
  afterAll(() => releaseHeld());
  const run = orderCommandRun(
    {},
    {
      decorateRepository: (repository: OrderRepository): OrderRepository =>
        Object.assign(Object.create(repository) as OrderRepository, {
          completePlacement: async (...args: Parameters<OrderRepository['completePlacement']>) => {
            if (holdKey && args[1] === holdKey) await new Promise<void>((resolve) => (releaseHeld = resolve));
            return repository.completePlacement(...args);
          },
        }),
    },
  );

  /** PlaceOrder with a deadline of our choosing, as the gateway sends it. */
  const placeWithin = (deadlineMs: number, request: orderV1.PlaceOrderRequest) =>
    unaryCaller(run.oc.api.client, { deadlineMs, isCutOff: () => false })('placeOrder', { repeatIfCutOff: false })(request);

  it('when a duplicate arrives while the first call with its key is still running, then it is told idempotency-key-in-flight before its own deadline, not left to time out', async () => {
    await run.inventory.api.upsertProduct({ id: 'chain-p', name: 'chain-p', priceMinor: 300, available: 10 });
    const request: orderV1.PlaceOrderRequest = {
      customerId: 'tess',
      idempotencyKey: 'chain-key',
      items: [{ productId: 'chain-p', quantity: 1, unitPriceMinor: 300 }],
      address: 'A',
      paymentMethod: 'card',
    };
    holdKey = 'chain-key';
    const first = placeWithin(30_000, request);
    await sleep(300); // the first call has claimed the key
    // IDEMPOTENCY_WAIT_MS is 4 s; this caller gives up after 1.5 s.
    const duplicate = await placeWithin(1_500, request).catch((e: ServiceError) => e);
    expect((duplicate as ServiceError).code).toBe(status.ABORTED);
    expect(errorDetails.errorReason((duplicate as ServiceError).metadata)).toBe('idempotency-key-in-flight');
    releaseHeld();
    const placed = await first;
    expect(placed.order).toMatchObject({ status: orderV1.OrderStatus.ORDER_STATUS_RESERVED });
    expect((await placeWithin(5_000, request)).order).toEqual(placed.order);
  });

  it("when inventory waits for a lock longer than the caller of order-command allows, then the caller's deadline reaches inventory and the answer is UNAVAILABLE (nothing changed) before it, not a timeout", async () => {
    for (const id of ['locked-a', 'locked-b']) await run.inventory.api.upsertProduct({ id, name: id, priceMinor: 300, available: 10 });
    // Another holder has one product's lock for longer than any of these calls lasts.
    expect(await redis('SET', lockKey('locked-a'), 'someone-else', 'PX', '10000')).toMatch(/OK/);
    try {
      // order-command gives inventory 3 s and inventory waits 2 s for a lock; this caller allows 1.5 s.
      const refused = await placeWithin(1_500, {
        customerId: 'uma',
        idempotencyKey: '',
        items: [
          { productId: 'locked-a', quantity: 1, unitPriceMinor: 300 },
          { productId: 'locked-b', quantity: 1, unitPriceMinor: 300 },
        ],
        address: 'A',
        paymentMethod: 'card',
      }).catch((e: ServiceError) => e);
      expect((refused as ServiceError).code).toBe(status.UNAVAILABLE);
      expect(errorDetails.errorReason((refused as ServiceError).metadata)).toBe('unavailable');
      const { products } = await run.inventory.api.getProducts({ productIds: ['locked-a', 'locked-b'] });
      expect(products.map((p) => [p.id, p.available, p.reserved])).toEqual([
        ['locked-a', 10, 0],
        ['locked-b', 10, 0],
      ]);
    } finally {
      await redis('DEL', lockKey('locked-a'));
    }
  });
});
