/**
 * The files around the deployment: the GitHub workflow (not run here: parsed and checked), the
 * Prometheus rules and scrape config, and docs/operations.md against the services' config.
 */
import fs from 'node:fs';
import path from 'node:path';
import { appConfig } from '../src/app-config';
import { APPS, readText, readYaml, ROOT } from '../src/workspace';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { 'runs-on': string; 'timeout-minutes'?: number; container?: string; steps: Step[] }>;
}
interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: string };
  annotations: { summary: string; description?: string };
}

describe('.github/workflows/ci.yml', () => {
  const workflow = readYaml<Workflow>('.github/workflows/ci.yml');
  const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
  const runs = steps.map((s) => s.run ?? '').join('\n');

  it('when it is parsed, then it runs on pushes to main and on pull requests, and every job has steps and a time limit', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    for (const [name, job] of Object.entries(workflow.jobs)) {
      expect({ name, steps: job.steps.length > 0, timeout: typeof job['timeout-minutes'] }).toEqual({ name, steps: true, timeout: 'number' });
      for (const step of job.steps)
        expect({ name, step: step.name ?? step.uses, has: Boolean(step.uses) !== Boolean(step.run) }).toEqual({
          name,
          step: step.name ?? step.uses,
          has: true,
        });
    }
  });

  it('when it tests a change, then it installs with npm ci, sets the affected base and head, installs the stack packages and runs lint, typecheck and test on the affected projects', () => {
    const affected = workflow.jobs.affected;
    expect(affected?.container).toMatch(/^node:20-bookworm/);
    const affectedRuns = (affected?.steps ?? []).map((s) => s.run ?? '').join('\n');
    expect(affectedRuns).toMatch(/^npm ci\b/m);
    expect(affected?.steps.map((s) => s.uses ?? '')).toEqual(expect.arrayContaining([expect.stringMatching(/^nrwl\/nx-set-shas@/)]));
    for (const pkg of ['mariadb-server', 'redis-server', 'nats-server', 'docker-compose', 'chromium', 'prometheus']) expect(affectedRuns).toContain(pkg);
    expect(affectedRuns).toMatch(/npx nx affected -t lint typecheck test\b/);
    expect(affectedRuns).toMatch(/ORDERFLOW_TEST_STACK|npm run stack -- up --profile test/);
  });

  it("when apps are affected, then each is bundled with the images' own bundler, and the deployment checks always run", () => {
    expect(runs).toMatch(/nx show projects --affected --type app/);
    expect(runs).toContain('node tools/deploy-checks/build-app.mjs "$app"');
    expect(runs).toMatch(/--projects=@orderflow\/deploy-checks/);
    expect(runs).toMatch(/docker build --build-arg APP="\$app" /);
  });

  it('when it uses actions, then each is pinned to a version', () => {
    for (const uses of steps.map((s) => s.uses).filter(Boolean)) expect(uses).toMatch(/^[\w.-]+\/[\w.-]+@(v\d+(\.\d+)*|[0-9a-f]{40})$/);
  });
});

describe('deploy/prometheus/alerts.yaml', () => {
  const file = readYaml<{ groups: { name: string; rules: Rule[] }[] }>('deploy/prometheus/alerts.yaml');
  const rules = file.groups.flatMap((g) => g.rules);

  /** Every metric name a string literal in the services' sources defines (prom-client `name: '...'` and helpers). */
  const defined = (() => {
    const names = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'generated') walk(full);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
          for (const m of fs.readFileSync(full, 'utf8').matchAll(/['"](orderflow_[a-z0-9_]+)['"]/g)) names.add(m[1] as string);
        }
      }
    };
    for (const root of ['apps', 'libs'])
      for (const project of fs.readdirSync(path.join(ROOT, root))) {
        const src = path.join(ROOT, root, project, 'src');
        if (fs.existsSync(src)) walk(src);
      }
    return names;
  })();

  it('when it is parsed, then every rule has a unique name, expr, for, labels.severity (page or ticket) and annotations.summary', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect({ alert: rule.alert, expr: typeof rule.expr, for: rule.for, severity: rule.labels?.severity, summary: typeof rule.annotations?.summary }).toEqual({
        alert: expect.stringMatching(/^Orderflow[A-Za-z0-9]+$/),
        expr: 'string',
        for: expect.stringMatching(/^\d+[smh]$/),
        severity: expect.stringMatching(/^(page|ticket)$/),
        summary: 'string',
      });
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  it('when an expression is read, then its brackets balance and every orderflow_* metric in it is one the services define', () => {
    for (const rule of rules) {
      let depth = 0;
      for (const c of rule.expr.replace(/"[^"]*"/g, '""')) {
        depth += '({['.includes(c) ? 1 : ')}]'.includes(c) ? -1 : 0;
        expect({ alert: rule.alert, negative: depth < 0 }).toEqual({ alert: rule.alert, negative: false });
      }
      expect({ alert: rule.alert, depth }).toEqual({ alert: rule.alert, depth: 0 });
      for (const [metric] of rule.expr.matchAll(/orderflow_[a-z0-9_]+/g)) {
        const base = metric.replace(/_(bucket|sum|count)$/, '');
        expect({ alert: rule.alert, metric, defined: defined.has(metric) || defined.has(base) }).toEqual({ alert: rule.alert, metric, defined: true });
      }
    }
  });

  it.each([
    ['gateway 5xx rate', /orderflow_http_requests_total\{[^}]*status=~"5\.\."/],
    ['gateway p99 latency', /histogram_quantile\(0\.99,[\s\S]*orderflow_http_request_duration_seconds_bucket/],
    ['gateway readiness', /kube_deployment_status_replicas_available\{deployment="gateway"\}/],
    ['projection lag over 5 s', /orderflow_projection_lag_seconds[^>]*\)\s*>\s*5\b/],
    ['dead letters', /orderflow_projection_dead_letters_total[\s\S]*>\s*0/],
    ['outbox backlog growing', /deriv\([\s\S]*orderflow_outbox_backlog/],
    ['inventory UNAVAILABLE', /orderflow_grpc_server_handled_total\{job="inventory", grpc_code="UNAVAILABLE"\}/],
    ['order-command settle backlog', /orderflow_order_settlements_pending/],
  ])('when the rules are read, then one watches the %s', (_what, pattern) => {
    expect(rules.some((r) => pattern.test(r.expr))).toBe(true);
  });

  it('when Prometheus runs in compose, then it loads these rules and scrapes each service under its own job name and metrics port', () => {
    const config = readYaml<{ rule_files: string[]; scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[] }>(
      'deploy/prometheus/prometheus.yml',
    );
    const compose = readYaml<{ services: Record<string, { volumes?: string[]; expose?: string[] }> }>('deploy/compose.yaml');
    expect(compose.services.prometheus?.volumes).toContain('./prometheus/alerts.yaml:/etc/prometheus/alerts.yaml:ro');
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yaml']);
    expect(config.scrape_configs.map((s) => s.job_name).sort()).toEqual([...APPS].sort());
    for (const scrape of config.scrape_configs) {
      const [target] = scrape.dns_sd_configs;
      expect({ job: scrape.job_name, names: target?.names, exposed: compose.services[scrape.job_name]?.expose?.includes(String(target?.port)) }).toEqual({
        job: scrape.job_name,
        names: [scrape.job_name],
        exposed: true,
      });
    }
  });
});

describe('docs/operations.md', () => {
  const doc = readText('docs/operations.md');

  it.each(APPS)('when %s reads a variable in its config.ts, then the configuration tables document it', (app) => {
    const missing = [...appConfig(app).variables].filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('when an alert is defined, then the alerts table explains it', () => {
    const alerts = readYaml<{ groups: { rules: Rule[] }[] }>('deploy/prometheus/alerts.yaml').groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts.filter((alert) => !doc.includes(`| \`${alert}\` |`))).toEqual([]);
  });

  it('when the page links within the repository, then every linked file exists', () => {
    for (const [, target] of doc.matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g))
      expect({ target, exists: fs.existsSync(path.join(ROOT, 'docs', target ?? '')) }).toEqual({ target, exists: true });
  });
});
