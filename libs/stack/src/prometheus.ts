import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';
import type { MetricsPorts, SystemPorts } from './system';

/** One scrape job: `job` becomes the series' `job` label, as the alert rules expect (the service's name). */
export interface ScrapeJob {
  job: string;
  /** host:port of each instance. */
  targets: string[];
  /** Default /metrics. */
  metricsPath?: string;
}

export interface PrometheusOptions {
  jobs: ScrapeJob[];
  /** Rule files to load (copied into the private directory; `ruleFor` applies to the copies). */
  ruleFiles?: string[];
  /** Scrape and rule evaluation interval in seconds (default 1: a fault shows within seconds). */
  intervalSeconds?: number;
  /**
   * Replaces every rule's `for:` (a line `for: <duration>`), e.g. '0s' or '5s': a chaos run's faults last
   * seconds, the rules wait minutes. Unset: the rules as written.
   */
  ruleFor?: string;
  /** Default: a free port. */
  port?: number;
  /** Default: `prometheus` on the PATH (Debian's package). */
  binary?: string;
}

export type AlertState = 'pending' | 'firing';

/** An active alert as /api/v1/alerts lists it; a resolved alert is no longer listed. */
export interface PrometheusAlert {
  labels: Record<string, string> & { alertname: string };
  annotations: Record<string, string>;
  state: AlertState;
  activeAt: string;
  value: string;
}

export interface RunningPrometheus {
  url: string;
  pid: number;
  /** The private directory: config, rule copies, TSDB and the process's log (removed by stop()). */
  dir: string;
  /** The active (pending or firing) alerts. */
  alerts(): Promise<PrometheusAlert[]>;
  /** The names of the alerting rules Prometheus loaded. */
  alertRules(): Promise<string[]>;
  /**
   * Waits until an alert named `name` (whose labels include `labels`) is in `state`; 'inactive' waits for
   * none to be listed (resolved). Returns the matching alerts (none for 'inactive').
   */
  waitForAlert(name: string, state: AlertState | 'inactive', options?: { labels?: Record<string, string>; timeoutMs?: number }): Promise<PrometheusAlert[]>;
  /** SIGTERM (SIGKILL after 10 s), waits for the exit, removes the private directory. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The local system's scrape jobs, named as deploy/prometheus/prometheus.yml names them; the outbox relay
 * (a process of its own locally, part of order-command when deployed) is an order-command instance.
 */
export function systemScrapeJobs(ports: Pick<SystemPorts, 'gateway'>, metricsPorts: MetricsPorts | MetricsPorts[], host = '127.0.0.1'): ScrapeJob[] {
  // Every replica's metrics port (the gateway's workers answer together on its one port).
  const replicas = Array.isArray(metricsPorts) ? metricsPorts : [metricsPorts];
  const at = (...keys: (keyof MetricsPorts)[]) => replicas.flatMap((m) => keys.map((key) => `${host}:${m[key]}`));
  return [
    { job: 'gateway', targets: [`${host}:${ports.gateway}`] },
    { job: 'order-command', targets: at('orderCommand', 'orderRelay') },
    { job: 'inventory', targets: at('inventory') },
    { job: 'order-query', targets: at('orderQuery') },
  ];
}

/** The configuration (JSON is YAML) for the jobs and rule files, every interval `intervalSeconds`. */
export function prometheusConfig(jobs: ScrapeJob[], ruleFiles: string[], intervalSeconds: number): string {
  const interval = `${intervalSeconds}s`;
  return JSON.stringify(
    {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: ruleFiles,
      scrape_configs: jobs.map((job) => ({ job_name: job.job, metrics_path: job.metricsPath ?? '/metrics', static_configs: [{ targets: job.targets }] })),
    },
    null,
    2,
  );
}

/** Starts a private Prometheus (own port, own temporary directory) and waits until it is ready. */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const intervalSeconds = options.intervalSeconds ?? 1;
  const port = options.port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-prometheus-'));
  const ruleFiles = (options.ruleFiles ?? []).map((file, i) => {
    const copy = path.join(dir, `rules-${i}-${path.basename(file)}`);
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(copy, options.ruleFor === undefined ? text : text.replace(/^([ \t]*for:[ \t]*)\S+/gm, `$1${options.ruleFor}`));
    return copy;
  });
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, prometheusConfig(options.jobs, ruleFiles, intervalSeconds));
  const logFile = path.join(dir, 'prometheus.log');
  const log = fs.openSync(logFile, 'a');
  const url = `http://127.0.0.1:${port}`;

  const child: ChildProcess = spawn(
    options.binary ?? 'prometheus',
    [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined); // a missing binary: reported below as an exit before ready
  // If this process exits without stop(), do not leave Prometheus behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const api = async <T>(pathname: string): Promise<T> => {
    const response = await fetch(`${url}${pathname}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (response.status !== 200 || body.status !== 'success') throw new Error(`GET ${pathname}: ${response.status} ${body.error ?? ''}`);
    return body.data;
  };

  // Ready once /-/ready answers 200 (TSDB open, config and rules loaded).
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      const output = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2_000) : '';
      await stop();
      throw new Error(`prometheus exited before it was ready (is Debian's prometheus package installed?):\n${output}`);
    }
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      const output = fs.readFileSync(logFile, 'utf8').slice(-2_000);
      await stop();
      throw new Error(`prometheus was not ready within 30 s:\n${output}`);
    }
    await sleep(200);
  }

  const alerts = async () => (await api<{ alerts: PrometheusAlert[] }>('/api/v1/alerts')).alerts;
  return {
    url,
    pid: child.pid as number,
    dir,
    alerts,
    async alertRules() {
      const data = await api<{ groups: { rules: { type: string; name: string }[] }[] }>('/api/v1/rules?type=alert');
      return data.groups.flatMap((group) => group.rules.filter((rule) => rule.type === 'alerting').map((rule) => rule.name));
    },
    async waitForAlert(name, state, { labels = {}, timeoutMs = 30_000 } = {}) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const matching = (await alerts()).filter((a) => a.labels.alertname === name && Object.entries(labels).every(([key, value]) => a.labels[key] === value));
        if (state === 'inactive' ? matching.length === 0 : matching.some((a) => a.state === state)) return matching.filter((a) => a.state === state);
        if (Date.now() > until) throw new Error(`alert ${name} not ${state} within ${timeoutMs} ms; active: ${JSON.stringify(matching)}`);
        await sleep(Math.min(500, intervalSeconds * 500));
      }
    },
    stop,
  };
}
