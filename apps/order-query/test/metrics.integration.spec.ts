import { orderEventSubject } from '@orderflow/messaging';
import { orderV1 } from '@orderflow/proto';
import { freePort, MetricsScrape, scrapeMetrics } from '@orderflow/stack';
import { caughtUp, orderHistory, orderQueryRun, waitFor } from './support';

describe('order-query /metrics after real events (MariaDB x2, NATS JetStream)', () => {
  let url: string;
  // Two deliveries at most, so an event whose predecessor never comes is dead-lettered quickly.
  const run = orderQueryRun(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/metrics`;
    return { ORDER_QUERY_METRICS_PORT: String(port), MAX_DELIVER: '2' };
  });

  const result = (metrics: MetricsScrape, name: string) => metrics.value('orderflow_projection_events_total', { result: name });

  it('when events apply, repeat, arrive out of order or are poison, then each result, the dead letters, the lag and where the applied events spent their time are exposed', async () => {
    const [placed, paid] = orderHistory('nora', ['placed', 'paid']);
    const [, , gap] = orderHistory('olga', ['placed', 'paid', 'shipped']);
    await run.feed.publish(placed!);
    await run.feed.publish(paid!);
    await run.feed.publish(placed!, `${placed!.eventId}-again`); // a re-send JetStream does not recognise: a duplicate for the projection
    await run.feed.publish(gap!); // version 3 of an order with no version 1: out of order, then dead-lettered
    await run.feed.publishRaw(orderEventSubject('placed', run.config.nats.subjectPrefix), Uint8Array.of(0xff, 0xff, 0xff)); // poison

    const metrics = await waitFor(async () => {
      const m = await scrapeMetrics(url);
      return result(m, 'dead_lettered') === 2 && m;
    }, 'two dead letters');
    expect({ applied: result(metrics, 'applied'), duplicate: result(metrics, 'duplicate'), outOfOrder: result(metrics, 'out_of_order') }).toEqual({
      applied: 2,
      duplicate: 1,
      outOfOrder: 2, // once per delivery: the first, and the last before it was dead-lettered
    });
    expect(metrics.value('orderflow_projection_dead_letters_total')).toBe(2);
    // Where the two applied events' time went: each stage observed once per applied event, none negative.
    for (const stage of ['event_to_stream', 'stream_to_applied', 'event_to_applied']) {
      expect(metrics.value('orderflow_projection_delay_seconds_count', { stage })).toBe(2);
      expect(metrics.value('orderflow_projection_delay_seconds_sum', { stage })).toBeGreaterThanOrEqual(0);
      expect(metrics.value('orderflow_projection_delay_seconds_bucket', { stage, le: '+Inf' })).toBe(2);
    }

    await caughtUp(run.oq.api);
    const settled = await scrapeMetrics(url);
    expect(settled.value('orderflow_projection_lag_events')).toBe(0);
    expect(settled.value('orderflow_projection_lag_seconds')).toBe(0);
    expect(
      settled.value('orderflow_grpc_server_handled_total', {
        grpc_service: 'orderflow.order_query.v1.OrderQueryService',
        grpc_method: 'GetProjectionLag',
        grpc_code: 'OK',
      }),
    ).toBeGreaterThan(0);
    expect((await run.oq.api.getOrder({ orderId: placed!.orderId, actor: { customerId: 'nora', admin: false } })).order?.status).toBe(
      orderV1.OrderStatus.ORDER_STATUS_PAID,
    );
  });
});
