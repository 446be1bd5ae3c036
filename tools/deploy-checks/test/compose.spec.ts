/**
 * deploy/compose.yaml, offline: Docker Compose's own validation (`docker-compose config -q`), the
 * compose-spec JSON schema, and how the system is wired.
 */
import path from 'node:path';
import Ajv from 'ajv';
import { endpointsOf, shardsOf } from '../src/addresses';
import { numericDefault, unknownVariables } from '../src/app-config';
import { App, APPS, isObject, onPath, readText, readYaml, ROOT, run } from '../src/workspace';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  expose?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  restart?: string;
}

const COMPOSE = 'deploy/compose.yaml';
const compose = readYaml<{ services: Record<string, ComposeService> }>(COMPOSE);
const services = compose.services;
const appServices = APPS.map((app) => [app, services[app]] as const);
const byImage = (prefix: string) => Object.entries(services).filter(([, s]) => s.image?.startsWith(prefix));

/** Debian's docker-compose (v1.29, validates offline). Installed here only as root and only when missing. */
function composeCommand(): string[] {
  if (onPath('docker-compose')) return ['docker-compose'];
  if (onPath('docker') && run('docker', ['compose', 'version']).status === 0) return ['docker', 'compose'];
  if (process.getuid?.() === 0 && onPath('apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let install = run('apt-get', ['install', '-y', '--no-install-recommends', 'docker-compose'], { env, timeoutMs: 300_000 });
    if (install.status !== 0) {
      run('apt-get', ['update'], { env, timeoutMs: 300_000 });
      install = run('apt-get', ['install', '-y', '--no-install-recommends', 'docker-compose'], { env, timeoutMs: 300_000 });
    }
    if (install.status === 0 && onPath('docker-compose')) return ['docker-compose'];
    throw new Error(`apt-get install docker-compose failed:\n${install.stdout}${install.stderr}`);
  }
  throw new Error("docker-compose is missing: install Debian's package (apt-get install docker-compose) or Docker Compose v2, then run again");
}

describe('deploy/compose.yaml', () => {
  let command: string[] = [];
  beforeAll(() => {
    command = composeCommand();
  }, 600_000);

  it('when Docker Compose validates it offline (config -q), then it is accepted', () => {
    const [bin, ...pre] = command as [string, ...string[]];
    // Only the variables the file documents, so a developer's shell cannot make it pass or fail.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const result = run(bin, [...pre, '-f', path.join(ROOT, COMPOSE), 'config', '-q'], { env, timeoutMs: 60_000 });
    expect(result.stderr.replace(/^.*(WARN|warning).*$/gim, '').trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('when it is checked against the compose-spec JSON schema, then it conforms', () => {
    const schemaPath = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
    // The compose-spec schema as dclint ships it; draft-07 (Ajv's own), named by an https URL Ajv does not alias.
    const schema = JSON.parse(readText(path.relative(ROOT, schemaPath))) as Record<string, unknown>;
    expect(schema.$schema).toMatch(/draft-07/);
    delete schema.$schema;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const valid = validate(compose);
    expect(valid ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)).toEqual([]);
  });

  it('when the four apps are defined, then each is built from the one Dockerfile with its name as the APP argument and the repository as context', () => {
    for (const [app, service] of appServices) {
      expect({ app, build: service?.build }).toEqual({ app, build: { context: '..', dockerfile: 'Dockerfile', args: { APP: app } } });
    }
  });

  it('when the apps start, then each has a health check and waits for what it depends on to be healthy', () => {
    for (const [app, service] of appServices) {
      expect({ app, healthcheck: Array.isArray(service?.healthcheck?.test) }).toEqual({ app, healthcheck: true });
      for (const [dependency, { condition }] of Object.entries(service?.depends_on ?? {})) {
        expect({ app, dependency, condition, dependencyHasHealthcheck: Boolean(services[dependency]?.healthcheck) }).toEqual({
          app,
          dependency,
          condition: 'service_healthy',
          dependencyHasHealthcheck: true,
        });
      }
    }
    // The order of §9: servers first, then inventory, then order-command, then the gateway.
    expect(Object.keys(services['order-command']?.depends_on ?? {})).toContain('inventory');
    expect(Object.keys(services.gateway?.depends_on ?? {}).sort()).toEqual(['inventory', 'order-command', 'order-query']);
  });

  it('when a container dies, then Docker restarts it: every service has restart unless-stopped (docs/operations.md, What restarts what)', () => {
    expect(
      Object.entries(services)
        .filter(([, s]) => s.restart !== 'unless-stopped')
        .map(([name]) => name),
    ).toEqual([]);
  });

  it('when the stateless services run, then the gateway, order-query and order-command are replicated', () => {
    for (const app of ['gateway', 'order-query', 'order-command']) {
      expect({ app, replicated: (services[app]?.deploy?.replicas ?? 1) >= 2 }).toEqual({ app, replicated: true });
    }
    // Replicas cannot share a published port: only the edge proxy publishes one.
    for (const [app, service] of appServices) expect({ app, ports: service?.ports }).toEqual({ app, ports: undefined });
  });

  it("when the timeout chain is set, then each caller's deadline reaches the service it calls with the same value, and every wait is shorter", () => {
    const env = (app: App) => services[app]?.environment ?? {};
    const value = (app: App, variable: string) => Number(env(app)[variable] ?? numericDefault(app, variable));
    expect(env('gateway').DOWNSTREAM_DEADLINE_MS).toMatch(/^\d+$/);
    expect(env('order-command').DOWNSTREAM_DEADLINE_MS).toBe(env('gateway').DOWNSTREAM_DEADLINE_MS);
    expect(env('order-command').INVENTORY_DEADLINE_MS).toMatch(/^\d+$/);
    expect(env('inventory').INVENTORY_DEADLINE_MS).toBe(env('order-command').INVENTORY_DEADLINE_MS);
    expect(value('order-command', 'IDEMPOTENCY_WAIT_MS')).toBeLessThan(value('gateway', 'DOWNSTREAM_DEADLINE_MS'));
    expect(value('order-command', 'INVENTORY_DEADLINE_MS')).toBeLessThan(value('gateway', 'DOWNSTREAM_DEADLINE_MS'));
    expect(value('inventory', 'INVENTORY_LOCK_WAIT_MS')).toBeLessThan(value('order-command', 'INVENTORY_DEADLINE_MS'));
  });

  it('when order limits are set, then the gateway and order-command get the same values', () => {
    const limits = (app: string) => ({ MAX_ITEMS: services[app]?.environment?.MAX_ITEMS, MAX_QUANTITY: services[app]?.environment?.MAX_QUANTITY });
    expect(limits('gateway')).toEqual({ MAX_ITEMS: expect.stringMatching(/^\d+$/), MAX_QUANTITY: expect.stringMatching(/^\d+$/) });
    expect(limits('order-command')).toEqual(limits('gateway'));
  });

  it('when Redlock needs independent masters, then there are three Redis servers, none a replica, all given to inventory', () => {
    const redis = byImage('redis:');
    expect(redis).toHaveLength(3);
    for (const [, service] of redis) expect((service.command ?? []).join(' ')).not.toMatch(/replicaof|slaveof|cluster-enabled/);
    const given = endpointsOf(services.inventory?.environment ?? {}).filter((e) => e.variable === 'INVENTORY_REDIS');
    expect(given.map((e) => e.host).sort()).toEqual(redis.map(([name]) => name).sort());
  });

  it('when NATS runs, then it is a three-node JetStream cluster (nats 2.10+) with sync_interval always, known to both order services', () => {
    const nats = byImage('nats:');
    expect(nats).toHaveLength(3);
    for (const [name, service] of nats) {
      expect(service.image).toMatch(/^nats:2\.(1\d|[2-9]\d)/);
      expect(service.volumes).toContain('./nats/nats.conf:/etc/nats/nats.conf:ro');
      expect(service.command).toEqual(['--config', '/etc/nats/nats.conf', '--name', name]);
    }
    const conf = readText('deploy/nats/nats.conf');
    expect(conf).toMatch(/jetstream\s*\{[^}]*sync_interval:\s*always/);
    const routes = [...conf.matchAll(/nats:\/\/([a-z0-9-]+):6222/g)].map((m) => m[1]);
    expect(routes.sort()).toEqual(nats.map(([name]) => name).sort());
    for (const app of ['order-command', 'order-query']) {
      const servers = endpointsOf(services[app]?.environment ?? {}).filter((e) => e.variable === 'NATS_SERVERS');
      expect(servers.map((e) => e.host).sort()).toEqual(nats.map(([name]) => name).sort());
    }
  });

  it('when the shards are placed, then each MariaDB server holds one order shard and one read shard, and the user is created at init', () => {
    const mariadb = byImage('mariadb:');
    expect(mariadb).toHaveLength(4);
    const orders = shardsOf(services['order-command']?.environment?.ORDER_SHARDS ?? '');
    const reads = shardsOf(services['order-query']?.environment?.READ_SHARDS ?? '');
    expect(orders.map((s) => s.database)).toEqual([0, 1, 2, 3].map((i) => `orderflow_orders_${i}`));
    expect(reads.map((s) => s.database)).toEqual([0, 1, 2, 3].map((i) => `orderflow_read_${i}`));
    expect(orders.map((s) => s.host)).toEqual(mariadb.map(([name]) => name));
    expect(reads.map((s) => s.host)).toEqual(mariadb.map(([name]) => name));
    expect(services.inventory?.environment?.INVENTORY_MYSQL_HOST).toBe('mariadb-0');
    // The script Kubernetes runs (its mysql-initdb ConfigMap), mounted as it is.
    const initdb = './k8s/base/mysql/01-orderflow-user.sh:/docker-entrypoint-initdb.d/01-orderflow-user.sh:ro';
    for (const [, service] of mariadb) expect(service.volumes).toContain(initdb);
    expect(readText('deploy/k8s/base/mysql/01-orderflow-user.sh')).toMatch(/CREATE USER IF NOT EXISTS 'orderflow'@'%'/);
  });

  it('when a service is given an address, then it names a defined service and a port that service exposes', () => {
    const problems: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const endpoint of endpointsOf(service.environment ?? {})) {
        const target = services[endpoint.host];
        if (!target) problems.push(`${name} ${endpoint.variable}: no service "${endpoint.host}"`);
        else if (!(target.expose ?? []).includes(String(endpoint.port)))
          problems.push(`${name} ${endpoint.variable}: ${endpoint.host} does not expose ${endpoint.port}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('when an app listens, then it binds 0.0.0.0 on the port it exposes, and every variable it is given is one its config reads', () => {
    for (const [app, service] of appServices) {
      const env = service?.environment ?? {};
      const hosts = Object.entries(env).filter(([name]) => /_HOST$/.test(name) && !/MYSQL/.test(name));
      expect({ app, hosts: hosts.map(([, value]) => value) }).toEqual({ app, hosts: hosts.map(() => '0.0.0.0') });
      const ports = Object.entries(env).filter(([name]) => /(GATEWAY|GRPC|METRICS)_PORT$/.test(name));
      for (const [name, port] of ports) expect({ app, name, exposed: service?.expose?.includes(port) }).toEqual({ app, name, exposed: true });
      expect({ app, unknown: unknownVariables(app, Object.keys(env)) }).toEqual({ app, unknown: [] });
    }
  });

  it('when secrets are configured, then only the documented development defaults are written, each overridable from the environment', () => {
    const documented = new Set(['orderflow-dev-secret-change-me', 'orderflow-dev-cursor-secret', 'orderflow', 'orderflow-dev-root']);
    const problems: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const [variable, value] of Object.entries(isObject(service.environment) ? service.environment : {})) {
        if (!/SECRET|PASSWORD|TOKEN|PRIVATE_KEY/.test(variable)) continue;
        const match = /^\$\{([A-Z_]+)(?::-(.*))?\}$/.exec(String(value));
        if (!match) problems.push(`${name} ${variable}: a literal value; use \${${variable}:-<documented dev default>}`);
        else if (match[2] !== undefined && !documented.has(match[2]))
          problems.push(`${name} ${variable}: default "${match[2]}" is not a documented dev default`);
      }
    }
    expect(problems).toEqual([]);
  });
});
