import { histogramOf, quantileBetween, windowFigures } from './latency-watch';

const scrape = (counts: [string, number][], total: number) =>
  [
    '# TYPE orderflow_grpc_server_handling_seconds histogram',
    ...counts.map(
      ([le, n]) =>
        `orderflow_grpc_server_handling_seconds_bucket{le="${le}",grpc_service="orderflow.order.v1.OrderCommandService",grpc_method="PlaceOrder"} ${n}`,
    ),
    `orderflow_grpc_server_handling_seconds_count{grpc_service="orderflow.order.v1.OrderCommandService",grpc_method="PlaceOrder"} ${total}`,
    `orderflow_grpc_server_handling_seconds_count{grpc_service="orderflow.order.v1.OrderCommandService",grpc_method="PayOrder"} 999`,
  ].join('\n');

describe('the latency watch', () => {
  it('when 100 orders came in 10 s, 98 under 5 ms and 2 between 10 and 25 ms, then orders/s is 10 and p99 lies in the 10-25 ms bucket', () => {
    const from = histogramOf(
      [
        scrape(
          [
            ['0.005', 0],
            ['0.01', 0],
            ['0.025', 0],
            ['+Inf', 0],
          ],
          0,
        ),
      ],
      'PlaceOrder',
      0,
    );
    const to = histogramOf(
      [
        scrape(
          [
            ['0.005', 98],
            ['0.01', 98],
            ['0.025', 100],
            ['+Inf', 100],
          ],
          100,
        ),
      ],
      'PlaceOrder',
      10_000,
    );
    const figures = windowFigures('during copy', from, to);
    expect(figures.orders).toBe(100);
    expect(figures.ordersPerSecond).toBe(10);
    expect(figures.p99Ms).toBeCloseTo(17.5, 5);
  });

  it('when two services are watched, then their histograms add up', () => {
    const one = scrape(
      [
        ['0.005', 5],
        ['+Inf', 6],
      ],
      6,
    );
    expect(histogramOf([one, one], 'PlaceOrder', 0).count).toBe(12);
    expect(histogramOf([one, one], 'PlaceOrder', 0).buckets.get(Infinity)).toBe(12);
  });

  it('when no order was answered in a window, then there is no p99', () => {
    const same = histogramOf(
      [
        scrape(
          [
            ['0.005', 3],
            ['+Inf', 3],
          ],
          3,
        ),
      ],
      'PlaceOrder',
      0,
    );
    expect(quantileBetween(same, { ...same, at: 1000 }, 0.99)).toBeUndefined();
  });
});
