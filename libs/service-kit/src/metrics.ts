import http from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Component } from './lifecycle';
import type { Logger } from './logger';

/**
 * A Prometheus registry of this process's own (never prom-client's global default registry), so each
 * service instance (and each one a test starts in one process) exposes only its own metrics.
 */
export function createMetricsRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/** How long a gauge that asks another system (NATS, a service) waits for it during a scrape. */
export const SCRAPE_READ_TIMEOUT_MS = 500;

/**
 * For gauges read from elsewhere when Prometheus scrapes: the gauges of one scrape share one read, and
 * a read that fails or takes longer than `timeoutMs` gives undefined (the gauges say "unknown"), so a
 * dependency that is down never makes the scrape itself time out (which would read as the target down).
 */
export function scrapeReading<T>(read: () => Promise<T>, timeoutMs = SCRAPE_READ_TIMEOUT_MS): () => Promise<T | undefined> {
  let inFlight: Promise<T | undefined> | undefined;
  return () =>
    (inFlight ??= new Promise<T | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      read()
        .then(
          (value) => resolve(value),
          () => resolve(undefined),
        )
        .finally(() => clearTimeout(timer));
    }).finally(() => (inFlight = undefined)));
}

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port (tests); services leave the server out of their lifecycle when theirs is 0. */
  port: number;
  registry: Registry;
  logger: Logger;
}

/** A small HTTP server for Prometheus: `GET /metrics` and nothing else. */
export class MetricsServer implements Component {
  readonly name = 'metrics-server';
  private readonly server: http.Server;
  private port = 0;

  constructor(private readonly options: MetricsServerOptions) {
    this.server = http.createServer((request, response) => void this.handle(request, response));
    // Scrapes are short; an idle keep-alive connection must not hold up stop().
    this.server.keepAliveTimeout = 5_000;
  }

  get boundPort(): number {
    return this.port;
  }

  async start(): Promise<void> {
    const { host, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    this.options.logger.info({ host, port: this.port }, 'metrics endpoint listening');
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') return void response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') return void response.writeHead(405, { allow: 'GET, HEAD' }).end();
    try {
      const body = await this.options.registry.metrics();
      response.writeHead(200, { 'content-type': this.options.registry.contentType });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'metrics collection failed');
      response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
    }
  }
}
