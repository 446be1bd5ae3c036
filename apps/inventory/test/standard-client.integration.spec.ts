import { ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { dropDatabase } from '@orderflow/database';
import { testStack, typescriptNodeArgs, workspaceRoot } from '@orderflow/stack';
import { testConfig } from './support';

const run = promisify(execFile);
const root = workspaceRoot();
const buf = path.join(root, 'node_modules', '.bin', 'buf');
const healthProto = path.dirname(require.resolve('grpc-health-check/package.json'));

describe('inventory as a process, called by standard gRPC tools', () => {
  const config = testConfig();
  const port = 25052;
  let service: ChildProcess;
  const url = (method: string) => `http://127.0.0.1:${port}/${method}`;
  const curl = async (method: string, body: unknown, extra: string[] = []) => {
    const { stdout } = await run(buf, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...extra, '-d', JSON.stringify(body), url(method)], {
      cwd: root,
    });
    return JSON.parse(stdout);
  };

  beforeAll(async () => {
    const stack = testStack.info();
    service = spawn(process.execPath, typescriptNodeArgs(path.join(root, 'apps', 'inventory', 'src', 'main.ts')), {
      env: {
        ...process.env,
        INVENTORY_GRPC_PORT: String(port),
        INVENTORY_METRICS_PORT: '0',
        INVENTORY_MYSQL_PORT: String(stack.mysql[0]!.port),
        INVENTORY_MYSQL_DATABASE: config.mysql.database,
        INVENTORY_REDIS: `127.0.0.1:${stack.redis[0]!.port}`,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const health = await curl('grpc.health.v1.Health/Check', {}, ['--schema', path.join(healthProto, 'proto', 'health', 'v1', 'health.proto')]).catch(
        () => undefined,
      );
      if (health?.status === 'SERVING') break;
      if (Date.now() > deadline) throw new Error('inventory did not become healthy');
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  afterAll(async () => {
    if (service.exitCode === null) {
      service.kill('SIGTERM');
      await new Promise((resolve) => service.once('exit', resolve));
    }
    await dropDatabase(config.mysql);
  });

  it('when buf curl calls through server reflection, then products can be created and reserved', async () => {
    const upserted = await curl('orderflow.inventory.v1.InventoryService/UpsertProduct', { id: 'buf-1', name: 'Buffed', price_minor: 4200, available: 7 });
    expect(upserted).toMatchObject({ created: true, product: { id: 'buf-1', priceMinor: '4200', available: '7' } });
    const reserved = await curl('orderflow.inventory.v1.InventoryService/Reserve', {
      order_id: 'buf-order',
      items: [{ product_id: 'buf-1', quantity: 3 }],
      expires_at: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(reserved.reservation).toMatchObject({ orderId: 'buf-order', status: 'RESERVATION_STATUS_RESERVED' });
    const products = await curl('orderflow.inventory.v1.InventoryService/GetProducts', { product_ids: ['buf-1', 'nope'] });
    expect(products).toMatchObject({ products: [{ id: 'buf-1', available: '4', reserved: '3' }], missingProductIds: ['nope'] });
  });

  it('when reflection is listed, then it names the inventory service', async () => {
    const { stdout } = await run(buf, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--list-services', `http://127.0.0.1:${port}`], { cwd: root });
    expect(stdout.split('\n')).toContain('orderflow.inventory.v1.InventoryService');
  });

  it('when the process gets SIGTERM, then it drains and exits 0', async () => {
    service.kill('SIGTERM');
    const code = await new Promise((resolve) => service.once('exit', resolve));
    expect(code).toBe(0);
  });
});
