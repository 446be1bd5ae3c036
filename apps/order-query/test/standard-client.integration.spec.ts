import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { workspaceRoot } from '@orderflow/stack';
import { caughtUp, orderHistory, orderQueryRun } from './support';

const exec = promisify(execFile);
const root = workspaceRoot();
const buf = path.join(root, 'node_modules', '.bin', 'buf');
const healthProto = path.join(path.dirname(require.resolve('grpc-health-check/package.json')), 'proto', 'health', 'v1', 'health.proto');

describe('order-query called by standard gRPC tools (buf curl through server reflection)', () => {
  const run = orderQueryRun();

  const curl = async (method: string, body: unknown, extra: string[] = []) => {
    const url = `http://127.0.0.1:${run.oq.app.grpc.boundPort}/${method}`;
    const { stdout } = await exec(buf, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...extra, '-d', JSON.stringify(body), url], { cwd: root });
    return JSON.parse(stdout);
  };

  it('when the standard health check is asked, then the service is SERVING', async () => {
    expect(await curl('grpc.health.v1.Health/Check', { service: 'orderflow.order_query.v1.OrderQueryService' }, ['--schema', healthProto])).toEqual({
      status: 'SERVING',
    });
  });

  it("when buf curl lists a customer's orders, then the JSON answer carries them, 64-bit ids intact", async () => {
    const [placed, paid] = orderHistory('curl-customer', ['placed', 'paid']);
    await run.feed.publishAll([placed!, paid!]);
    await caughtUp(run.oq.api);

    const listed = await curl('orderflow.order_query.v1.OrderQueryService/ListOrders', { customer_id: 'curl-customer', page_size: 5 });
    expect(listed.orders).toEqual([
      expect.objectContaining({ id: placed!.orderId, customerId: 'curl-customer', status: 'ORDER_STATUS_PAID', totalMinor: '4499', version: '2' }),
    ]);
    const lag = await curl('orderflow.order_query.v1.OrderQueryService/GetProjectionLag', {});
    expect(lag).toMatchObject({ eventsApplied: '2' });
  });
});
