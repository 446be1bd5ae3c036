/**
 * deploy/prometheus with Prometheus's own tool, offline: `promtool check rules` and `check config`
 * (Debian's prometheus package, which the global setup installs when missing), and the rules' unit tests
 * in deploy/prometheus/alerts.test.yaml (`promtool test rules`), which must fire every alert once and
 * keep it quiet once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { readText, readYaml, ROOT, run } from '../src/workspace';

const ALERTS = 'deploy/prometheus/alerts.yaml';
const ALERT_TESTS = 'deploy/prometheus/alerts.test.yaml';
const CONFIG = 'deploy/prometheus/prometheus.yml';

interface RuleTests {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { eval_time: string; alertname: string; exp_alerts: unknown[] }[] }[];
}

const alertNames = readYaml<{ groups: { rules: { alert: string }[] }[] }>(ALERTS).groups.flatMap((g) => g.rules.map((r) => r.alert));
const promtool = (args: string[], cwd = ROOT) => run('promtool', args, { cwd, timeoutMs: 60_000 });

let scratch = '';
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-promtool-'));
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('deploy/prometheus with promtool', () => {
  it('when promtool checks alerts.yaml, then every rule is valid', () => {
    const result = promtool(['check', 'rules', ALERTS]);
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({
      status: 0,
      output: expect.stringContaining(`SUCCESS: ${alertNames.length} rules found`),
    });
  });

  it('when promtool checks prometheus.yml with its rule files where compose mounts them from, then the config and the rules are valid', () => {
    // The config names the rule files by their path in the container; compose mounts them from deploy/.
    const config = readYaml<{ rule_files: string[] }>(CONFIG);
    const mounts = readYaml<{ services: { prometheus: { volumes: string[] } } }>('deploy/compose.yaml').services.prometheus.volumes.map((volume) =>
      volume.split(':'),
    );
    const ruleFiles = config.rule_files.map((inContainer) => {
      const mount = mounts.find(([, target]) => target === inContainer);
      expect({ inContainer, mounted: Boolean(mount) }).toEqual({ inContainer, mounted: true });
      return path.resolve(ROOT, 'deploy', mount?.[0] ?? '');
    });
    const local = path.join(scratch, 'prometheus.yml');
    fs.writeFileSync(local, yaml.dump({ ...config, rule_files: ruleFiles }));

    const result = promtool(['check', 'config', local]);
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({
      status: 0,
      output: expect.stringContaining(`SUCCESS: ${alertNames.length} rules found`),
    });
  });

  it('when promtool runs the unit tests of the rules, then every test passes', () => {
    const result = promtool(['test', 'rules', ALERT_TESTS]);
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it("when an alert's threshold is changed, then its unit test fails naming the alert", () => {
    fs.writeFileSync(path.join(scratch, 'alerts.yaml'), readText(ALERTS).replace('[5m])) > 0.01', '[5m])) > 0.5'));
    fs.copyFileSync(path.join(ROOT, ALERT_TESTS), path.join(scratch, 'alerts.test.yaml'));
    expect(fs.readFileSync(path.join(scratch, 'alerts.yaml'), 'utf8')).not.toBe(readText(ALERTS));

    const result = promtool(['test', 'rules', 'alerts.test.yaml'], scratch);
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toContain('alertname: OrderflowGatewayErrorRate');
  });
});

describe('deploy/prometheus/alerts.test.yaml', () => {
  const file = readYaml<RuleTests>(ALERT_TESTS);
  const cases = file.tests.flatMap((test) => (test.alert_rule_test ?? []).map((check) => ({ test: test.name, ...check })));

  it('when it is read, then it tests alerts.yaml and only alerts that exist', () => {
    expect(file.rule_files).toEqual(['alerts.yaml']);
    expect(cases.filter((c) => !alertNames.includes(c.alertname)).map((c) => `${c.test}: ${c.alertname}`)).toEqual([]);
  });

  it('when it is read, then every alert in alerts.yaml has a case that fires it and a case that keeps it quiet', () => {
    const fires = new Set(cases.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname));
    const quiet = new Set(cases.filter((c) => c.exp_alerts.length === 0).map((c) => c.alertname));
    expect(alertNames.filter((alert) => !fires.has(alert))).toEqual([]);
    expect(alertNames.filter((alert) => !quiet.has(alert))).toEqual([]);
  });
});
