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

  it('when p99 spans orders of magnitude, then the p99 axis is logarithmic with a tick at each power of ten', () => {
    const svg = renderChart(
      [
        {
          name: 'naive',
          points: [
            { concurrency: 64, perSecond: 100, p99Ms: 12_000 },
            { concurrency: 256, perSecond: 90, p99Ms: 40 },
          ],
        },
      ],
      'test',
    );
    const ticks = [...svg.matchAll(/text-anchor="end" font-size="11">(\d+)</g)].map((m) => Number(m[1]));
    expect(ticks.slice(5)).toEqual([1, 10, 100, 1000, 10000, 100000]); // the first five are the linear throughput axis
    expect(svg).toContain('p99 latency (log scale)');
  });

  it('when there are more paths than fit on one legend row, then the legend wraps and the picture grows to hold it', () => {
    const series = Array.from({ length: 7 }, (_, i) => ({ name: `path ${i}`, points: [{ concurrency: 64, perSecond: 1, p99Ms: 1 }] }));
    const svg = renderChart(series, 'test');
    expect(svg).toMatch(/<svg [^>]*height="462"/); // 380 + 16 + 3 rows of 22
    expect(new Set([...svg.matchAll(/<rect x="[\d.]+" y="(\d+)" width="14"/g)].map((m) => m[1])).size).toBe(3);
  });
});
