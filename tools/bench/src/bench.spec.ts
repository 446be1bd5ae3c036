import { renderChart } from './chart';
import { percentile } from './stats';

describe('bench helpers', () => {
  it('when percentiles are taken, then they are nearest-rank values of the sorted list', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 99), percentile(sorted, 100), percentile([], 99)]).toEqual([50, 99, 100, 0]);
  });

  it('when a chart is rendered, then it is SVG with a line and a point per measurement of each path', () => {
    const svg = renderChart(
      [
        { name: 'batched', points: [16, 64, 256].map((c) => ({ concurrency: c, perSecond: c * 10, p99Ms: c })) },
        { name: 'locked <per request>', points: [16, 64, 256].map((c) => ({ concurrency: c, perSecond: 400, p99Ms: c * 3 })) },
      ],
      'test',
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    expect(svg.match(/<circle/g)).toHaveLength(12);
    expect(svg).toContain('locked &lt;per request&gt;');
  });
});
