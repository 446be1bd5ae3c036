import { parseMetrics } from '@orderflow/stack';

/** The PlaceOrder latency histogram of the watched services, summed over them, at one moment. */
export interface HistogramSnapshot {
  at: number;
  /** Upper bound (seconds; Infinity for +Inf) -> cumulative count. */
  buckets: Map<number, number>;
  count: number;
}

export interface WindowFigures {
  name: string;
  seconds: number;
  orders: number;
  ordersPerSecond: number;
  /** Undefined when no order was answered in the window. */
  p99Ms?: number;
}

const METRIC = 'orderflow_grpc_server_handling_seconds';

/** Sums the histogram of one method over every series of every scrape text. */
export function histogramOf(texts: string[], method: string, at: number): HistogramSnapshot {
  const buckets = new Map<number, number>();
  let count = 0;
  for (const text of texts) {
    for (const sample of parseMetrics(text).samples) {
      if (sample.labels.grpc_method !== method) continue;
      if (sample.name === `${METRIC}_bucket`) {
        const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
        buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
      } else if (sample.name === `${METRIC}_count`) count += sample.value;
    }
  }
  return { at, buckets, count };
}

/** Prometheus's histogram_quantile over the difference of two snapshots (linear inside a bucket). */
export function quantileBetween(from: HistogramSnapshot, to: HistogramSnapshot, q: number): number | undefined {
  const bounds = [...to.buckets.keys()].sort((a, b) => a - b);
  const delta = bounds.map((le) => (to.buckets.get(le) ?? 0) - (from.buckets.get(le) ?? 0));
  const total = delta[delta.length - 1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if ((delta[i] as number) < rank) continue;
    const upper = bounds[i] as number;
    const lower = i === 0 ? 0 : (bounds[i - 1] as number);
    if (upper === Infinity) return lower;
    const below = i === 0 ? 0 : (delta[i - 1] as number);
    const inBucket = (delta[i] as number) - below;
    return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
  }
  return undefined;
}

export function windowFigures(name: string, from: HistogramSnapshot, to: HistogramSnapshot): WindowFigures {
  const seconds = Math.max(0.001, (to.at - from.at) / 1000);
  const orders = Math.max(0, to.count - from.count);
  const p99 = quantileBetween(from, to, 0.99);
  return { name, seconds, orders, ordersPerSecond: orders / seconds, p99Ms: p99 === undefined ? undefined : p99 * 1000 };
}

/**
 * Scrapes the services' /metrics for orders/s and p99 of PlaceOrder over named windows of a move
 * (before, copy, switch, after). A scrape that fails leaves the window out, never the move.
 */
export class LatencyWatch {
  private readonly open = new Map<string, HistogramSnapshot>();
  readonly windows: WindowFigures[] = [];

  constructor(
    readonly urls: string[],
    private readonly method = 'PlaceOrder',
  ) {}

  /** Whether every watched endpoint answers now. */
  async answers(): Promise<boolean> {
    return (await this.sample()) !== undefined;
  }

  async sample(): Promise<HistogramSnapshot | undefined> {
    try {
      const texts = await Promise.all(
        this.urls.map(async (url) => {
          const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
          if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
          return response.text();
        }),
      );
      return histogramOf(texts, this.method, Date.now());
    } catch {
      return undefined;
    }
  }

  async start(name: string): Promise<void> {
    const snapshot = await this.sample();
    if (snapshot) this.open.set(name, snapshot);
  }

  async end(name: string): Promise<WindowFigures | undefined> {
    const from = this.open.get(name);
    this.open.delete(name);
    const to = from && (await this.sample());
    if (!from || !to) return undefined;
    const figures = windowFigures(name, from, to);
    this.windows.push(figures);
    return figures;
  }
}
