/**
 * deploy/prometheus/alerts.yaml in a real Prometheus (libs/stack's startPrometheus, which the chaos run
 * uses against the local services): here it scrapes a tiny /metrics endpoint served by the test, playing
 * order-query, with every rule's `for` cut to 0 s so alerts fire and resolve within seconds.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DEV_METRICS_PORTS, DEV_PORTS, freePort, prometheusConfig, recordAlerts, RunningPrometheus, startPrometheus, systemScrapeJobs } from '@orderflow/stack';
import { readYaml, ROOT, run } from '../src/workspace';

const ALERTS = 'deploy/prometheus/alerts.yaml';
const alertNames = readYaml<{ groups: { rules: { alert: string }[] }[] }>(ALERTS).groups.flatMap((g) => g.rules.map((r) => r.alert));

/** order-query's lag gauge, as the test sets it. */
let lagSeconds = 0;
const server = http.createServer((request, response) => {
  if (request.url !== '/metrics') return void response.writeHead(404).end();
  response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
  response.end(`# TYPE orderflow_projection_lag_seconds gauge\norderflow_projection_lag_seconds ${lagSeconds}\n`);
});
const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
const close = () =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

describe('alerts.yaml in a private Prometheus', () => {
  let port = 0;
  let prometheus: RunningPrometheus | undefined;

  beforeAll(async () => {
    port = await freePort();
    await listen(port);
    prometheus = await startPrometheus({
      jobs: [{ job: 'order-query', targets: [`127.0.0.1:${port}`] }],
      ruleFiles: [path.join(ROOT, ALERTS)],
      ruleFor: '0s',
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (server.listening) await close();
  });

  it('when Prometheus loads alerts.yaml, then it evaluates every alert in it', async () => {
    expect((await prometheus!.alertRules()).sort()).toEqual([...alertNames].sort());
  });

  it("when order-query's lag gauge reads 12 s, then OrderflowProjectionLagHigh fires, and when it reads 0, then it resolves", async () => {
    expect(await prometheus!.alerts()).toEqual([]);
    const recorder = recordAlerts(prometheus!, 200);
    lagSeconds = 12;
    const [firing] = await prometheus!.waitForAlert('OrderflowProjectionLagHigh', 'firing');
    expect(firing?.annotations.description).toContain('is 12 s old');
    lagSeconds = 0;
    await prometheus!.waitForAlert('OrderflowProjectionLagHigh', 'inactive');

    const episodes = await recorder.stop();
    expect(episodes).toEqual([
      {
        alert: 'OrderflowProjectionLagHigh',
        labels: { severity: 'page' },
        activeAt: expect.any(Date),
        firedAt: expect.any(Date),
        resolvedAt: expect.any(Date),
      },
    ]);
    const [episode] = episodes;
    expect(episode!.resolvedAt!.getTime()).toBeGreaterThanOrEqual(episode!.firedAt!.getTime());
  });

  it("when order-query's metrics endpoint stops answering, then OrderflowTargetDown fires for that instance, and resolves once it is back", async () => {
    await close();
    const [firing] = await prometheus!.waitForAlert('OrderflowTargetDown', 'firing', { labels: { job: 'order-query' } });
    expect(firing?.labels.instance).toBe(`127.0.0.1:${port}`);
    await listen(port);
    await prometheus!.waitForAlert('OrderflowTargetDown', 'inactive');
  });

  it('when it is stopped, then its process has exited and its directory is gone', async () => {
    const { pid, dir } = prometheus!;
    expect(fs.existsSync(path.join(dir, 'prometheus.yml'))).toBe(true);
    await prometheus!.stop();
    prometheus = undefined;
    expect(() => process.kill(pid, 0)).toThrow();
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe("the local system's scrape jobs (systemScrapeJobs)", () => {
  const jobs = systemScrapeJobs(DEV_PORTS, DEV_METRICS_PORTS);

  it('when they are listed, then they carry the job names of deploy/prometheus/prometheus.yml, the relay as an order-command instance', () => {
    const deployed = readYaml<{ scrape_configs: { job_name: string }[] }>('deploy/prometheus/prometheus.yml').scrape_configs.map((s) => s.job_name);
    expect(jobs.map((j) => j.job).sort()).toEqual(deployed.sort());
    expect(jobs.find((j) => j.job === 'order-command')?.targets).toEqual([
      `127.0.0.1:${DEV_METRICS_PORTS.orderCommand}`,
      `127.0.0.1:${DEV_METRICS_PORTS.orderRelay}`,
    ]);
    expect(jobs.find((j) => j.job === 'gateway')?.targets).toEqual([`127.0.0.1:${DEV_PORTS.gateway}`]);
  });

  it('when a config is generated for them with alerts.yaml, then promtool accepts it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-promconfig-'));
    try {
      fs.writeFileSync(path.join(dir, 'prometheus.yml'), prometheusConfig(jobs, [path.join(ROOT, ALERTS)], 1));
      const result = run('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')]);
      expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({
        status: 0,
        output: expect.stringContaining(`SUCCESS: ${alertNames.length} rules found`),
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
