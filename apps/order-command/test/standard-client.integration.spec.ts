import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { workspaceRoot } from '@orderflow/stack';
import { orderCommandRun } from './support';

const exec = promisify(execFile);
const root = workspaceRoot();
const buf = path.join(root, 'node_modules', '.bin', 'buf');
const healthProto = path.join(path.dirname(require.resolve('grpc-health-check/package.json')), 'proto', 'health', 'v1', 'health.proto');

describe('order-command called by standard gRPC tools (buf curl through server reflection)', () => {
  const run = orderCommandRun();

  const curl = async (method: string, body: unknown, extra: string[] = []) => {
    const url = `http://127.0.0.1:${run.oc.app.grpc.boundPort}/${method}`;
    const { stdout } = await exec(buf, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...extra, '-d', JSON.stringify(body), url], { cwd: root });
    return JSON.parse(stdout);
  };

  it('when the standard health check is asked, then the service is SERVING', async () => {
    expect(await curl('grpc.health.v1.Health/Check', { service: 'orderflow.order.v1.OrderCommandService' }, ['--schema', healthProto])).toEqual({
      status: 'SERVING',
    });
  });

  it('when buf curl places and pays an order, then the JSON answers carry the order', async () => {
    await run.inventory.api.upsertProduct({ id: 'curl-p', name: 'Curl', priceMinor: 4200, available: 5 });
    const placed = await curl('orderflow.order.v1.OrderCommandService/PlaceOrder', {
      customer_id: 'curl-customer',
      idempotency_key: 'curl-1',
      items: [{ product_id: 'curl-p', quantity: 2, unit_price_minor: 4200 }],
      address: '1 Curl Rd',
      payment_method: 'card',
    });
    expect(placed.order).toMatchObject({ customerId: 'curl-customer', status: 'ORDER_STATUS_RESERVED', totalMinor: '8400', version: '1' });
    const paid = await curl('orderflow.order.v1.OrderCommandService/PayOrder', { order_id: placed.order.id, actor: { customer_id: 'curl-customer' } });
    expect(paid.order).toMatchObject({ id: placed.order.id, status: 'ORDER_STATUS_PAID', version: '2' });
  });

  it('when buf curl sets the optional idempotency_key_made_by_gateway (read through reflection), then the order is placed, a repeat replays it, and the flag without a key is refused', async () => {
    await run.inventory.api.upsertProduct({ id: 'curl-gk', name: 'Curl', priceMinor: 100, available: 5 });
    const body = {
      customer_id: 'curl-customer',
      idempotency_key: '~gateway:curl',
      idempotency_key_made_by_gateway: true,
      items: [{ product_id: 'curl-gk', quantity: 1, unit_price_minor: 100 }],
      address: '1 Curl Rd',
      payment_method: 'card',
    };
    const placed = await curl('orderflow.order.v1.OrderCommandService/PlaceOrder', body);
    expect(placed.order).toMatchObject({ status: 'ORDER_STATUS_RESERVED' });
    expect(await curl('orderflow.order.v1.OrderCommandService/PlaceOrder', body)).toEqual({ order: placed.order, replayed: true });
    // The field reaches the service: without a key it is refused, naming it.
    const refused = await curl('orderflow.order.v1.OrderCommandService/PlaceOrder', { ...body, idempotency_key: '' }).catch((e: { stderr: string }) => e);
    expect(refused.stderr).toMatch(/invalid_argument/);
    expect(refused.stderr).toMatch(/idempotency_key_made_by_gateway/);
  });
});
