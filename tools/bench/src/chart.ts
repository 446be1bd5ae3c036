/** One measured path: its throughput and p99 latency at each concurrency. */
export interface Series {
  name: string;
  points: { concurrency: number; perSecond: number; p99Ms: number }[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2'];

/** A value axis: linear from 0, or log10 between powers of ten (for latencies that span orders of magnitude). */
function axis(values: number[], scale: 'linear' | 'log'): { at: (v: number) => number; ticks: number[] } {
  if (scale === 'linear') {
    const max = Math.max(1, ...values) * 1.1;
    return { at: (v) => v / max, ticks: [0, 0.25, 0.5, 0.75, 1].map((f) => max * f) };
  }
  const positive = values.filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(1, ...positive)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(1, ...positive))));
  const at = (v: number) => (Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo);
  return { at, ticks: Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i)) };
}

function panel(
  series: Series[],
  value: (p: Series['points'][number]) => number,
  title: string,
  unit: string,
  x0: number,
  width: number,
  height: number,
  scale: 'linear' | 'log' = 'linear',
): string {
  const all = series.flatMap((s) => s.points);
  const concurrencies = [...new Set(all.map((p) => p.concurrency))].sort((a, b) => a - b);
  const { at, ticks } = axis(all.map(value), scale);
  const left = x0 + 60;
  const right = x0 + width - 20;
  const top = 40;
  const bottom = height - 50;
  // Concurrency on a log scale: 16, 64, 256 are evenly spaced.
  const logs = concurrencies.map(Math.log2);
  const [lo, hi] = [Math.min(...logs), Math.max(...logs)];
  const x = (c: number) => (hi === lo ? (left + right) / 2 : left + ((Math.log2(c) - lo) / (hi - lo)) * (right - left));
  const y = (v: number) => bottom - at(v) * (bottom - top);
  const parts = [
    `<text x="${(left + right) / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${title}</text>`,
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`,
    ...concurrencies.map((c) => `<text x="${x(c)}" y="${bottom + 18}" text-anchor="middle" font-size="12">${c}</text>`),
    `<text x="${(left + right) / 2}" y="${bottom + 38}" text-anchor="middle" font-size="12">concurrency</text>`,
    ...ticks.map(
      (v) =>
        `<line x1="${left}" y1="${y(v)}" x2="${right}" y2="${y(v)}" stroke="#eee"/>` +
        `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${Math.round(v)}</text>`,
    ),
    `<text x="${x0 + 14}" y="${(top + bottom) / 2}" transform="rotate(-90 ${x0 + 14} ${(top + bottom) / 2})" ` +
      `text-anchor="middle" font-size="12">${unit}</text>`,
  ];
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const points = [...s.points].sort((a, b) => a.concurrency - b.concurrency);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map((p) => `${x(p.concurrency)},${y(value(p))}`).join(' ')}"/>`);
    for (const p of points)
      parts.push(
        `<circle cx="${x(p.concurrency)}" cy="${y(value(p))}" r="3.5" fill="${color}">` +
          `<title>${s.name}, c=${p.concurrency}: ${Math.round(value(p))} ${unit}</title></circle>`,
      );
  });
  return parts.join('\n');
}

/** Legend entries per row: each gets a third of the width, room for the longest names. */
const LEGEND_COLUMNS = 3;

/**
 * Two side-by-side line charts against concurrency, one line per path, as SVG: throughput (linear) and
 * p99 latency (log scale: the naive path's seconds and the batched path's milliseconds on one chart).
 */
export function renderChart(series: Series[], title: string): string {
  const width = 1000;
  const height = 380;
  const column = width / LEGEND_COLUMNS;
  const rows = Math.ceil(series.length / LEGEND_COLUMNS);
  const legend = series
    .map((s, i) => {
      const [lx, ly] = [20 + (i % LEGEND_COLUMNS) * column, height + 8 + Math.floor(i / LEGEND_COLUMNS) * 22];
      return (
        `<rect x="${lx}" y="${ly}" width="14" height="14" fill="${COLORS[i % COLORS.length]}"/>` +
        `<text x="${lx + 20}" y="${ly + 12}" font-size="12">${escapeXml(s.name)}</text>`
      );
    })
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 16 + rows * 22}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<title>${escapeXml(title)}</title>`,
    panel(series, (p) => p.perSecond, 'Throughput', 'per second', 0, width / 2, height),
    panel(series, (p) => p.p99Ms, 'p99 latency (log scale)', 'ms', width / 2, width / 2, height, 'log'),
    legend,
    '</svg>',
  ].join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
