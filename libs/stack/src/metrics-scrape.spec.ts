import { parseMetrics } from './metrics-scrape';

describe('parseMetrics', () => {
  it('when given the text format, then samples are found by name and a subset of their labels', () => {
    const scrape = parseMetrics(
      [
        '# HELP orderflow_things_total things',
        '# TYPE orderflow_things_total counter',
        'orderflow_things_total{outcome="reserved",shard="0"} 3',
        'orderflow_things_total{outcome="say \\"hi\\"",shard="1"} 1',
        'orderflow_backlog 0',
        'orderflow_lag_seconds -1',
      ].join('\n'),
    );
    expect(scrape.value('orderflow_things_total', { outcome: 'reserved' })).toBe(3);
    expect(scrape.value('orderflow_things_total', { outcome: 'say "hi"' })).toBe(1);
    expect(scrape.value('orderflow_backlog')).toBe(0);
    expect(scrape.value('orderflow_lag_seconds')).toBe(-1);
    expect(scrape.value('orderflow_things_total', { outcome: 'missing' })).toBeUndefined();
  });
});
