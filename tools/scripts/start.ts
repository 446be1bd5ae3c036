/**
 * `npm start`: the whole system on this machine, in the foreground.
 *   installs missing Debian packages, starts the dev stack (MariaDB x2, Redis, NATS JetStream),
 *   starts every service built so far (inventory, order-command; each migrates its own databases on start),
 *   seeds a demo catalog, and prints where everything listens. Ctrl-C stops all of it.
 */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { inventoryV1, orderV1 } from '@orderflow/proto';
import { startStack, stopStack, workspaceRoot } from '@orderflow/stack';
import { DEMO_CATALOG } from './demo-catalog';

const root = workspaceRoot();
const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const INVENTORY_ADDRESS = '127.0.0.1:50052';
const ORDER_COMMAND_ADDRESS = '127.0.0.1:50051';
const children: ChildProcess[] = [];

function startService(name: string, entry: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [tsx, path.join(root, entry)], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!shuttingDown) console.error(`${name} exited (${signal ?? code}); stopping everything`);
    if (!shuttingDown) void shutdown(1);
  });
  children.push(child);
  return child;
}

const call = <Res>(fn: (cb: (error: Error | null, response: Res) => void) => void) =>
  new Promise<Res>((resolve, reject) => fn((error, response) => (error ? reject(error) : resolve(response))));

async function seedCatalog(client: inventoryV1.InventoryServiceClient): Promise<void> {
  const deadline = Date.now() + 60_000;
  const ids = DEMO_CATALOG.map((p) => p.id);
  let existing: inventoryV1.GetProductsResponse | undefined;
  while (!existing) {
    existing = await call<inventoryV1.GetProductsResponse>((cb) =>
      client.getProducts({ productIds: ids }, new Metadata(), { deadline: new Date(Date.now() + 2_000) }, cb),
    ).catch(() => undefined);
    if (!existing && Date.now() > deadline) throw new Error(`inventory did not answer on ${INVENTORY_ADDRESS}`);
    if (!existing) await new Promise((r) => setTimeout(r, 300));
  }
  // Only missing products are created: a restart keeps whatever stock the demo has used up.
  for (const product of DEMO_CATALOG.filter((p) => existing.missingProductIds.includes(p.id))) {
    await call((cb) => client.upsertProduct(product, cb));
  }
  console.log(`demo catalog: ${DEMO_CATALOG.length} products (${existing.missingProductIds.length} created now)`);
}

async function waitForOrderCommand(): Promise<void> {
  const client = new orderV1.OrderCommandServiceClient(ORDER_COMMAND_ADDRESS, credentials.createInsecure());
  const deadline = Date.now() + 60_000;
  // A GetOrder for a valid id that does not exist answers NOT_FOUND once the service is up.
  for (;;) {
    const code = await new Promise<number | undefined>((resolve) =>
      client.getOrder({ orderId: '1', actor: { customerId: 'startup-probe', admin: true } }, new Metadata(), { deadline: new Date(Date.now() + 2_000) }, (error) =>
        resolve(error?.code),
      ),
    );
    if (code === status.NOT_FOUND) break;
    if (Date.now() > deadline) throw new Error(`order-command did not answer on ${ORDER_COMMAND_ADDRESS}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  client.close();
}

let shuttingDown = false;
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log('\nstopping services and the stack...');
  await Promise.all(
    children.filter((c) => c.exitCode === null).map((c) => new Promise((resolve) => {
      c.once('exit', resolve);
      c.kill('SIGTERM');
    })),
  );
  await stopStack({ profile: 'dev' });
  process.exit(code);
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  await startStack({ profile: 'dev', redisCount: Number(process.env.ORDERFLOW_REDIS_COUNT ?? '1') });
  startService('inventory', 'apps/inventory/src/main.ts');
  const client = new inventoryV1.InventoryServiceClient(INVENTORY_ADDRESS, credentials.createInsecure());
  await seedCatalog(client);
  client.close();
  startService('order-command', 'apps/order-command/src/main.ts');
  await waitForOrderCommand();
  console.log(`
Orderflow is up (Ctrl-C stops everything; \`npm run down\` stops a stack left behind).
  order-command    ${ORDER_COMMAND_ADDRESS}   (health + reflection; its outbox relay publishes to NATS stream ORDERS)
  inventory gRPC   ${INVENTORY_ADDRESS}   (health + reflection)
  try it:          npx buf curl --protocol grpc --http2-prior-knowledge \\
                     -d '{"customer_id":"demo-customer","items":[{"product_id":"demo-mug","quantity":1,"unit_price_minor":1200}],"address":"1 Demo St","payment_method":"card"}' \\
                     http://${ORDER_COMMAND_ADDRESS}/orderflow.order.v1.OrderCommandService/PlaceOrder
`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  void shutdown(1);
});
