/**
 * `npx tsx tools/scripts/profile-layers.ts`: throughput and latency of each layer alone (inventory Reserve,
 * GetProducts, order-command PlaceOrder at c=64 and c=8) on a system started on the dev stack, to find
 * where an order spends its time. Add `nodeFlags: ['--cpu-prof', '--cpu-prof-dir=DIR']` to startSystem for profiles.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { inventoryV1, orderV1 } from '@orderflow/proto';
import { startStack, startSystem } from '@orderflow/stack';
import { percentile } from '@orderflow/bench';

async function drive(name: string, c: number, seconds: number, op: () => Promise<unknown>) {
  const lat: number[] = [];
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        await op().catch(() => undefined);
        lat.push(performance.now() - t);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  console.log(name, Math.round(lat.length / seconds), '/s p50', percentile(lat, 50).toFixed(1), 'p99', percentile(lat, 99).toFixed(1));
}
const call = <T>(fn: (m: Metadata, cb: (e: Error | null, r: T) => void) => void) =>
  new Promise<T>((res, rej) => fn(new Metadata(), (e, r) => (e ? rej(e) : res(r))));

async function main() {
  const stack = await startStack({ profile: 'dev', log: () => undefined });
  const system = await startSystem({ stack, tag: `layers${process.pid}`, stdio: 'inherit', logLevel: 'warn' });
  const inv = new inventoryV1.InventoryServiceClient(system.env.INVENTORY_ADDRESS!, credentials.createInsecure());
  const oc = new orderV1.OrderCommandServiceClient(system.env.ORDER_COMMAND_ADDRESS!, credentials.createInsecure());
  for (let i = 0; i < 1000; i += 100)
    await Promise.all(
      Array.from({ length: 100 }, (_, j) => call((m, cb) => inv.upsertProduct({ id: `u${i + j}`, name: 'u', priceMinor: 500, available: 1e9 }, m, cb))),
    );
  let n = 0;
  await drive('inventory Reserve uniform', 64, 5, () =>
    call((m, cb) =>
      inv.reserve(
        {
          orderId: `x${n++}`,
          items: [{ productId: `u${Math.floor(Math.random() * 1000)}`, quantity: 1 }],
          expiresAt: new Date(Date.now() + 600000),
          expectedPrices: [],
          placementId: '',
        },
        m,
        cb,
      ),
    ),
  );
  await drive('inventory GetProducts', 64, 3, () => call((m, cb) => inv.getProducts({ productIds: [`u${Math.floor(Math.random() * 1000)}`] }, m, cb)));
  const placeOrder = () =>
    call((m, cb) =>
      oc.placeOrder(
        {
          customerId: `c${Math.floor(Math.random() * 500)}`,
          idempotencyKey: '',
          items: [{ productId: `u${Math.floor(Math.random() * 1000)}`, quantity: 1, unitPriceMinor: 500 }],
          address: 'A',
          paymentMethod: 'card',
        },
        m,
        cb,
      ),
    );
  await drive('order-command PlaceOrder uniform', 64, 5, placeOrder);
  await drive('order-command PlaceOrder c=8', 8, 5, placeOrder);
  await system.stop();
  process.exit(0);
}
main();
