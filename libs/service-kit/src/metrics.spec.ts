import { Counter, Gauge } from 'prom-client';
import { createLogger } from './logger';
import { createMetricsRegistry, MetricsServer, scrapeReading } from './metrics';

describe('MetricsServer', () => {
  const logger = createLogger('test', 'silent');

  it('when Prometheus scrapes GET /metrics, then it gets the registry in the text format, gauges collected at that moment', async () => {
    const registry = createMetricsRegistry();
    new Counter({ name: 'test_things_total', help: 'things', registers: [registry] }).inc(3);
    let backlog = 7;
    new Gauge({
      name: 'test_backlog',
      help: 'collected on scrape',
      registers: [registry],
      collect() {
        this.set(backlog);
      },
    });
    const server = new MetricsServer({ host: '127.0.0.1', port: 0, registry, logger });
    await server.start();
    try {
      const url = `http://127.0.0.1:${server.boundPort}`;
      const first = await fetch(`${url}/metrics`);
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toContain('text/plain');
      const text = await first.text();
      expect(text).toContain('test_things_total 3');
      expect(text).toContain('test_backlog 7');
      expect(text).toContain('process_cpu_user_seconds_total'); // default process metrics
      backlog = 2;
      expect(await (await fetch(`${url}/metrics`)).text()).toContain('test_backlog 2');

      expect((await fetch(`${url}/other`)).status).toBe(404);
      expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.stop();
    }
  });

  it('when a collect function fails, then the scrape is a 500 and the server keeps serving', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    let fail = true;
    new Gauge({
      name: 'test_flaky',
      help: 'fails once',
      registers: [registry],
      async collect() {
        if (fail) throw new Error('database down');
        this.set(1);
      },
    });
    const server = new MetricsServer({ host: '127.0.0.1', port: 0, registry, logger });
    await server.start();
    try {
      const url = `http://127.0.0.1:${server.boundPort}/metrics`;
      expect((await fetch(url)).status).toBe(500);
      fail = false;
      expect(await (await fetch(url)).text()).toContain('test_flaky 1');
    } finally {
      await server.stop();
    }
  });

  it('when the port is taken, then start fails instead of running without metrics', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const first = new MetricsServer({ host: '127.0.0.1', port: 0, registry, logger });
    await first.start();
    try {
      const second = new MetricsServer({ host: '127.0.0.1', port: first.boundPort, registry, logger });
      await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.stop();
    }
  });

  it('when two registries are made, then each holds only its own metrics', async () => {
    const a = createMetricsRegistry({ defaultMetrics: false });
    const b = createMetricsRegistry({ defaultMetrics: false });
    new Counter({ name: 'test_only_in_a_total', help: 'a', registers: [a] });
    expect(await a.metrics()).toContain('test_only_in_a_total');
    expect(await b.metrics()).not.toContain('test_only_in_a_total');
  });
});

describe('scrapeReading', () => {
  it('when the gauges of one scrape read at once, then they share one read; a slow or failing read gives undefined in time', async () => {
    let reads = 0;
    const shared = scrapeReading(async () => ++reads, 100);
    expect(await Promise.all([shared(), shared()])).toEqual([1, 1]);
    const slow = scrapeReading(() => new Promise<number>((resolve) => setTimeout(() => resolve(1), 1_000)), 50);
    const started = Date.now();
    expect(await slow()).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(500);
    expect(await scrapeReading(() => Promise.reject(new Error('down')))()).toBeUndefined();
  });
});
