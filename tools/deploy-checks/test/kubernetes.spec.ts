/**
 * deploy/k8s, offline: every overlay rendered with `kubectl kustomize`, every object checked against
 * the Kubernetes schemas (types and required fields, and strictly: no unknown field), then what makes the
 * system run: probes, resources, graceful shutdown, budgets, autoscalers, wiring and secrets.
 */
import { endpointsOf, shardsOf } from '../src/addresses';
import { numericDefault, unknownVariables } from '../src/app-config';
import { K8sObject, nameOf, renderKustomization, requireKubectl, schemaProblems, strictProblems } from '../src/kubernetes';
import { App, APPS, readText } from '../src/workspace';

/** The services drain within 25 s of SIGTERM (libs/service-kit runUntilSignal's grace period). */
const DRAIN_SECONDS = 25;
/** Secrets the prod overlay expects from a secret manager (documented in its kustomization.yaml). */
const EXTERNAL_SECRETS = ['mysql-credentials', 'order-query-cursor'];
const OVERLAYS = ['dev', 'prod'] as const;

interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: { name: string } };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string; optional?: boolean } }[];
  readinessProbe?: Record<string, unknown>;
  livenessProbe?: Record<string, unknown>;
  startupProbe?: Record<string, unknown>;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean };
  volumes?: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
}
interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates?: unknown[];
  };
}
interface ServiceObject extends K8sObject {
  spec: { clusterIP?: string; selector?: Record<string, string>; ports: { name?: string; port: number }[] };
}

const rendered: Record<string, K8sObject[]> = {};
beforeAll(() => {
  requireKubectl();
  for (const overlay of OVERLAYS) rendered[overlay] = renderKustomization(`deploy/k8s/overlays/${overlay}`);
}, 120_000);

const objectsOf = (overlay: string) => rendered[overlay] ?? [];
const ofKind = <T extends K8sObject>(overlay: string, kind: string) => objectsOf(overlay).filter((o) => o.kind === kind) as T[];
const find = <T extends K8sObject>(overlay: string, kind: string, name: string) => ofKind<T>(overlay, kind).find((o) => o.metadata.name === name);
const workloads = (overlay: string) => [...ofKind<Workload>(overlay, 'Deployment'), ...ofKind<Workload>(overlay, 'StatefulSet')];
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** A container's environment as the pod sees it: ConfigMaps from envFrom, then literal values; secrets marked. */
function environment(overlay: string, container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const configMap = source.configMapRef && find(overlay, 'ConfigMap', source.configMapRef.name);
    Object.assign(env, configMap?.data ?? {});
  }
  for (const variable of container.env ?? []) env[variable.name] = variable.value ?? '<from a secret>';
  return env;
}

/** Why host:port does not reach anything in the render, or undefined when it does. */
function unreachable(overlay: string, host: string, port: number): string | undefined {
  const [first = '', second] = host.split('.');
  if (second === undefined) {
    const service = find<ServiceObject>(overlay, 'Service', first);
    if (!service) return `no Service "${first}"`;
    return service.spec.ports.some((p) => p.port === port) ? undefined : `Service ${first} has no port ${port}`;
  }
  // <pod>.<headless service>: a StatefulSet pod.
  const service = find<ServiceObject>(overlay, 'Service', second);
  if (!service || service.spec.clusterIP !== 'None') return `no headless Service "${second}"`;
  if (!service.spec.ports.some((p) => p.port === port)) return `Service ${second} has no port ${port}`;
  const owner = ofKind<Workload>(overlay, 'StatefulSet').find((s) => s.spec.serviceName === second && first.startsWith(`${s.metadata.name}-`));
  const ordinal = owner ? Number(first.slice(owner.metadata.name.length + 1)) : NaN;
  return owner && Number.isInteger(ordinal) && ordinal < (owner.spec.replicas ?? 1) ? undefined : `no StatefulSet pod "${first}" behind ${second}`;
}

const appDeployment = (overlay: string, app: string) => find<Workload>(overlay, 'Deployment', app);
const appContainer = (overlay: string, app: string) => appDeployment(overlay, app)?.spec.template.spec.containers[0];
const cpu = (value = '0') => (value.endsWith('m') ? Number(value.slice(0, -1)) / 1000 : Number(value));

describe.each(OVERLAYS)('deploy/k8s/overlays/%s', (overlay) => {
  it('when it is rendered, then every object conforms to the Kubernetes schema of its kind', () => {
    expect(objectsOf(overlay).length).toBeGreaterThan(20);
    expect(objectsOf(overlay).flatMap(schemaProblems)).toEqual([]);
  });

  it('when it is rendered, then no object has a field the Kubernetes API does not define (strict)', () => {
    expect(strictProblems(objectsOf(overlay))).toEqual([]);
  });

  it('when it is applied, then everything lives in the orderflow Namespace it creates', () => {
    expect(find(overlay, 'Namespace', 'orderflow')).toBeDefined();
    const stray = objectsOf(overlay)
      .filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== 'orderflow')
      .map(nameOf);
    expect(stray).toEqual([]);
  });

  it('when pods run, then every container has readiness and liveness probes, CPU and memory requests and a memory limit, and no pod runs as root', () => {
    const problems: string[] = [];
    for (const workload of workloads(overlay)) {
      const spec = workload.spec.template.spec;
      if (spec.securityContext?.runAsNonRoot !== true) problems.push(`${nameOf(workload)}: runAsNonRoot is not true`);
      for (const c of spec.containers) {
        if (!c.readinessProbe) problems.push(`${nameOf(workload)}/${c.name}: no readinessProbe`);
        if (!c.livenessProbe) problems.push(`${nameOf(workload)}/${c.name}: no livenessProbe`);
        if (!c.resources?.requests?.cpu || !c.resources.requests.memory) problems.push(`${nameOf(workload)}/${c.name}: no cpu and memory requests`);
        if (!c.resources?.limits?.memory) problems.push(`${nameOf(workload)}/${c.name}: no memory limit`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('when services are probed, then the gateway answers /readyz and /healthz over HTTP and the gRPC services the standard health check on their port', () => {
    const gateway = appContainer(overlay, 'gateway');
    expect(gateway?.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'http' } });
    expect(gateway?.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });
    for (const app of ['order-command', 'inventory', 'order-query']) {
      const container = appContainer(overlay, app);
      const grpcPort = container?.ports?.find((p) => p.name === 'grpc')?.containerPort;
      expect({ app, grpcPort: typeof grpcPort }).toEqual({ app, grpcPort: 'number' });
      for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
        expect({ app, probe, grpc: container?.[probe]?.grpc }).toEqual({ app, probe, grpc: { port: grpcPort } });
      }
    }
  });

  it('when a pod is stopped, then it leaves the endpoints first (preStop sleep) and the grace period outlasts that sleep plus the 25 s drain', () => {
    for (const app of APPS) {
      const spec = appDeployment(overlay, app)?.spec.template.spec;
      const preStop = spec?.containers[0]?.lifecycle?.preStop;
      const command = preStop?.exec?.command ?? [];
      const sleep = preStop?.sleep?.seconds ?? (command[0] === 'sleep' ? Number(command[1]) : NaN);
      expect({ app, sleep: sleep > 0 }).toEqual({ app, sleep: true });
      expect({ app, grace: spec?.terminationGracePeriodSeconds }).toEqual({ app, grace: expect.any(Number) });
      expect(spec?.terminationGracePeriodSeconds ?? 0).toBeGreaterThan(sleep + DRAIN_SECONDS);
    }
  });

  it('when disruptions are budgeted, then every app and the NATS cluster has a PodDisruptionBudget whose selector matches exactly one workload', () => {
    const budgets = ofKind<K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }>(overlay, 'PodDisruptionBudget');
    for (const budget of budgets) {
      const targets = workloads(overlay).filter((w) => matches(budget.spec.selector.matchLabels, w.spec.template.metadata.labels));
      expect({ budget: nameOf(budget), targets: targets.length }).toEqual({ budget: nameOf(budget), targets: 1 });
    }
    const covered = budgets.flatMap((b) =>
      workloads(overlay)
        .filter((w) => matches(b.spec.selector.matchLabels, w.spec.template.metadata.labels))
        .map(nameOf),
    );
    expect(covered).toEqual(expect.arrayContaining([...APPS.map((a) => `Deployment/${a}`), 'StatefulSet/nats']));
  });

  it('when load grows, then autoscaling/v2 HorizontalPodAutoscalers scale the gateway and order-query Deployments', () => {
    const autoscalers = ofKind<
      K8sObject & { spec: { scaleTargetRef: { apiVersion: string; kind: string; name: string }; minReplicas: number; maxReplicas: number } }
    >(overlay, 'HorizontalPodAutoscaler');
    expect(autoscalers.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual(['gateway', 'order-query']);
    for (const hpa of autoscalers) {
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(find(overlay, hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name)).toBeDefined();
      expect(hpa.spec.scaleTargetRef.apiVersion).toBe('apps/v1');
      expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
    }
  });

  it('when JetStream runs, then NATS is a StatefulSet of three (nats 2.10+) with sync_interval always and a route to each pod', () => {
    const nats = find<Workload>(overlay, 'StatefulSet', 'nats');
    expect(nats?.spec.replicas).toBe(3);
    expect(nats?.spec.volumeClaimTemplates).toHaveLength(1);
    expect(nats?.spec.template.spec.containers[0]?.image).toMatch(/^nats:2\.(1\d|[2-9]\d)/);
    const configName = nats?.spec.template.spec.volumes?.find((v) => v.configMap)?.configMap?.name ?? '';
    const conf = find(overlay, 'ConfigMap', configName)?.data?.['nats.conf'] ?? '';
    expect(conf).toMatch(/jetstream\s*\{[^}]*sync_interval:\s*always/);
    const routes = [...conf.matchAll(/nats:\/\/([a-z0-9.-]+):(\d+)/g)].map((m) => unreachable(overlay, m[1] ?? '', Number(m[2])) ?? m[1]);
    expect(routes).toEqual(['nats-0.nats-headless', 'nats-1.nats-headless', 'nats-2.nats-headless']);
  });

  it('when the shards are stored, then MySQL runs as a StatefulSet with a headless Service and a volume per pod, one server per shard', () => {
    const mysql = find<Workload>(overlay, 'StatefulSet', 'mysql');
    const service = find<ServiceObject>(overlay, 'Service', mysql?.spec.serviceName ?? '');
    expect(service?.spec.clusterIP).toBe('None');
    expect(mysql?.spec.volumeClaimTemplates).toHaveLength(1);
    const orders = shardsOf(environment(overlay, appContainer(overlay, 'order-command') as Container).ORDER_SHARDS ?? '');
    const reads = shardsOf(environment(overlay, appContainer(overlay, 'order-query') as Container).READ_SHARDS ?? '');
    expect(orders.map((s) => s.host)).toEqual([0, 1, 2, 3].map((i) => `mysql-${i}.mysql`));
    expect(reads.map((s) => s.host)).toEqual(orders.map((s) => s.host));
    expect(mysql?.spec.replicas).toBe(orders.length);
  });

  it('when Redlock locks, then inventory gets three independent single-replica Redis masters', () => {
    const hosts = endpointsOf(environment(overlay, appContainer(overlay, 'inventory') as Container)).filter((e) => e.variable === 'INVENTORY_REDIS');
    expect(hosts).toHaveLength(3);
    for (const { host } of hosts) {
      const workload = find<Workload>(overlay, 'Deployment', host) ?? find<Workload>(overlay, 'StatefulSet', host);
      expect({ host, replicas: workload?.spec.replicas }).toEqual({ host, replicas: 1 });
      expect((workload?.spec.template.spec.containers[0]?.args ?? []).join(' ')).not.toMatch(/replicaof|slaveof|cluster-enabled/);
    }
  });

  it("when the timeout chain is set, then each caller's deadline comes from one ConfigMap shared with the service it calls, and every wait is shorter", () => {
    const settings = (app: App) => {
      const container = appContainer(overlay, app) as Container;
      const maps = (container.envFrom ?? []).map((s) => s.configMapRef?.name ?? '');
      return { env: environment(overlay, container), maps };
    };
    const value = (app: App, variable: string) => Number(settings(app).env[variable] ?? numericDefault(app, variable));
    for (const [variable, map, apps] of [
      ['DOWNSTREAM_DEADLINE_MS', 'downstream-deadline', ['gateway', 'order-command']],
      ['INVENTORY_DEADLINE_MS', 'inventory-deadline', ['order-command', 'inventory']],
    ] as const) {
      for (const app of apps)
        expect({ app, variable, fromOneConfigMap: settings(app).maps.some((m) => m.startsWith(map)) }).toEqual({ app, variable, fromOneConfigMap: true });
      expect(settings(apps[1]).env[variable]).toBe(settings(apps[0]).env[variable]);
    }
    expect(value('order-command', 'IDEMPOTENCY_WAIT_MS')).toBeLessThan(value('gateway', 'DOWNSTREAM_DEADLINE_MS'));
    expect(value('order-command', 'INVENTORY_DEADLINE_MS')).toBeLessThan(value('gateway', 'DOWNSTREAM_DEADLINE_MS'));
    expect(value('inventory', 'INVENTORY_LOCK_WAIT_MS')).toBeLessThan(value('order-command', 'INVENTORY_DEADLINE_MS'));
  });

  it('when order limits are set, then the gateway and order-command read them from one ConfigMap and agree', () => {
    const limits = (app: string) => {
      const container = appContainer(overlay, app) as Container;
      const env = environment(overlay, container);
      return {
        fromOneConfigMap: (container.envFrom ?? []).some((s) => s.configMapRef?.name.startsWith('order-limits')),
        MAX_ITEMS: env.MAX_ITEMS,
        MAX_QUANTITY: env.MAX_QUANTITY,
      };
    };
    expect(limits('gateway')).toEqual({ fromOneConfigMap: true, MAX_ITEMS: expect.stringMatching(/^\d+$/), MAX_QUANTITY: expect.stringMatching(/^\d+$/) });
    expect(limits('order-command')).toEqual(limits('gateway'));
  });

  it('when an app is configured, then every address reaches a Service port or StatefulSet pod, and every variable is one its config reads', () => {
    const problems: string[] = [];
    for (const app of APPS) {
      const env = environment(overlay, appContainer(overlay, app) as Container);
      for (const endpoint of endpointsOf(env)) {
        const why = unreachable(overlay, endpoint.host, endpoint.port);
        if (why) problems.push(`${app} ${endpoint.variable}=${endpoint.host}:${endpoint.port}: ${why}`);
      }
      for (const name of unknownVariables(app, Object.keys(env))) problems.push(`${app}: ${name} is read by nothing`);
      for (const [name, value] of Object.entries(env))
        if (/_HOST$/.test(name) && !/MYSQL/.test(name) && value !== '0.0.0.0') problems.push(`${app}: ${name}=${value} (must listen on 0.0.0.0 in a pod)`);
    }
    expect(problems).toEqual([]);
  });

  it('when ConfigMaps and Secrets are referenced, then the ConfigMaps are rendered, and the Secrets too unless the overlay expects them from outside', () => {
    const problems: string[] = [];
    for (const workload of workloads(overlay)) {
      const spec = workload.spec.template.spec;
      const configMaps = [
        ...spec.containers.flatMap((c) => (c.envFrom ?? []).map((e) => e.configMapRef?.name)),
        ...(spec.volumes ?? []).map((v) => v.configMap?.name),
      ];
      for (const name of configMaps) if (name && !find(overlay, 'ConfigMap', name)) problems.push(`${nameOf(workload)}: ConfigMap ${name} is not rendered`);
      for (const ref of spec.containers.flatMap((c) => (c.env ?? []).map((e) => e.valueFrom?.secretKeyRef)).filter(Boolean)) {
        const secret = find(overlay, 'Secret', ref?.name ?? '');
        const external = overlay === 'prod' && EXTERNAL_SECRETS.includes(ref?.name ?? '');
        if (!secret && !external && !ref?.optional) problems.push(`${nameOf(workload)}: Secret ${ref?.name} is neither rendered nor expected from outside`);
        if (secret && !Object.keys(secret.data ?? {}).includes(ref?.key ?? ''))
          problems.push(`${nameOf(workload)}: Secret ${ref?.name} has no key ${ref?.key}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('when every replica opens its pools (autoscalers at their maximum), then no MariaDB server is asked for more than its max_connections', () => {
    const mysql = find<Workload>(overlay, 'StatefulSet', 'mysql');
    const maxConnections = Number(/--max-connections=(\d+)/.exec((mysql?.spec.template.spec.containers[0]?.args ?? []).join(' '))?.[1] ?? 151);
    const hpaMax = (app: string) =>
      ofKind<K8sObject & { spec: { scaleTargetRef: { name: string }; maxReplicas: number } }>(overlay, 'HorizontalPodAutoscaler').find(
        (h) => h.spec.scaleTargetRef.name === app,
      )?.spec.maxReplicas;
    const perServer = new Map<string, number>();
    const pools: [App, string, (env: Record<string, string>) => string[]][] = [
      ['order-command', 'ORDER_MYSQL_POOL_MAX', (env) => shardsOf(env.ORDER_SHARDS ?? '').map((s) => s.host)],
      ['order-query', 'READ_MYSQL_POOL_MAX', (env) => shardsOf(env.READ_SHARDS ?? '').map((s) => s.host)],
      ['inventory', 'INVENTORY_MYSQL_POOL_MAX', (env) => [env.INVENTORY_MYSQL_HOST ?? '']],
    ];
    for (const [app, poolVariable, hostsOf] of pools) {
      const env = environment(overlay, appContainer(overlay, app) as Container);
      const replicas = hpaMax(app) ?? appDeployment(overlay, app)?.spec.replicas ?? 1;
      const pool = Number(env[poolVariable] ?? numericDefault(app, poolVariable));
      for (const host of new Set(hostsOf(env))) perServer.set(host, (perServer.get(host) ?? 0) + replicas * pool);
    }
    expect(perServer.size).toBe(mysql?.spec.replicas);
    for (const [host, connections] of perServer) expect({ host, connections, fits: connections < maxConnections }).toEqual({ host, connections, fits: true });
  });

  it('when an app image is named, then it carries an explicit tag, never latest', () => {
    for (const app of APPS) expect(appContainer(overlay, app)?.image).toMatch(new RegExp(`orderflow/${app}:(?!latest$)[\\w.-]+$`));
  });
});

describe('the dev overlay', () => {
  it('when it generates Secrets, then each is labelled dev-only and holds only the documented development defaults', () => {
    const secrets = ofKind('dev', 'Secret');
    expect(secrets.length).toBeGreaterThan(0);
    const documented = new Set(['orderflow-dev-root', 'orderflow', 'orderflow-dev-secret-change-me', 'orderflow-dev-cursor-secret']);
    for (const secret of secrets) {
      expect({ secret: nameOf(secret), devOnly: secret.metadata.labels?.['orderflow/dev-only'] }).toEqual({ secret: nameOf(secret), devOnly: 'true' });
      for (const value of Object.values(secret.data ?? {})) expect(documented).toContain(Buffer.from(value, 'base64').toString('utf8'));
    }
  });

  it('when the gateway runs, then it uses HS256 under NODE_ENV=development (the dev secret is refused in production)', () => {
    const env = environment('dev', appContainer('dev', 'gateway') as Container);
    expect(env).toMatchObject({ JWT_ALGORITHM: 'HS256', NODE_ENV: 'development' });
  });
});

describe('the prod overlay', () => {
  it('when it is rendered, then no Secret carries a value: they come from the secret manager named in its kustomization', () => {
    for (const secret of ofKind('prod', 'Secret'))
      expect({ secret: nameOf(secret), data: secret.data, stringData: secret.stringData }).toEqual({
        secret: nameOf(secret),
        data: undefined,
        stringData: undefined,
      });
    const kustomization = readText('deploy/k8s/overlays/prod/kustomization.yaml');
    for (const name of EXTERNAL_SECRETS) expect(kustomization).toContain(name);
  });

  it('when the gateway checks tokens, then it uses RS256 against a JWKS URL under NODE_ENV=production', () => {
    const env = environment('prod', appContainer('prod', 'gateway') as Container);
    expect(env).toMatchObject({ JWT_ALGORITHM: 'RS256', NODE_ENV: 'production' });
    expect(env.JWT_JWKS_URL).toMatch(/^https:\/\//);
  });

  it('when it is sized, then it runs more replicas with bigger requests than dev, and autoscales from at least three', () => {
    for (const app of APPS) {
      const [dev, prod] = [appDeployment('dev', app), appDeployment('prod', app)];
      expect({ app, replicas: prod?.spec.replicas }).toEqual({ app, replicas: expect.any(Number) });
      expect(prod?.spec.replicas ?? 0).toBeGreaterThan(dev?.spec.replicas ?? 0);
      expect(prod?.spec.replicas ?? 0).toBeGreaterThanOrEqual(3);
      const request = (d?: Workload) => cpu(d?.spec.template.spec.containers[0]?.resources?.requests?.cpu);
      expect(request(prod)).toBeGreaterThan(request(dev));
    }
    for (const hpa of ofKind<K8sObject & { spec: { minReplicas: number } }>('prod', 'HorizontalPodAutoscaler'))
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(3);
  });

  it('when the objects are compared with dev, then prod has the same kinds and names apart from the dev-only Secrets', () => {
    const names = (overlay: string) =>
      objectsOf(overlay)
        .filter((o) => o.kind !== 'Secret')
        .map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`)
        .sort();
    expect(names('prod')).toEqual(names('dev'));
  });
});
