/**
 * `npm run chaos [-- options]`: fault injection under REST load (issue 11, part 3).
 *   By default it starts a stack of its own (profile `chaos`: MariaDB x2, Redis, NATS on their own ports,
 *   watched and restarted like `npm start`'s) and the five service processes on it (supervised), runs
 *   the faults, checks the invariants, and stops everything it started.
 *   `--against running` works on the system `npm start` runs instead (dev ports), finding each process
 *   by the port it listens on; that system's own supervisor must bring back what the faults kill.
 *
 * Options:
 *   --faults a,b,...   which faults, in order (default: all): kill:<unit> for gateway, orderCommand,
 *                      orderRelay, inventory, orderQuery, mariadb, redis, nats; term:<service>
 *   --seconds N        length of each fault window (default 10); the fault comes at its middle
 *   --clients N        concurrent REST clients, one customer each (default 8)
 *   --redis 1|3        Redis masters of the stack it starts (default 1: the Redis fault then hits the only one)
 *   --replicas N       replicas of each service (needs startSystem's `replicas`); faults hit replica 0
 *   --prometheus       run a real Prometheus on the services with the repo's alert rules (`for:` 0s),
 *                      and report which alerts fired and resolved in each fault window
 *   --service-logs     show the services' own output (off: only this command's lines);
 *                      --log-level info makes them say more (default warn)
 *   --markdown         print the fault table as Markdown too (for docs/reliability.md)
 * Exit code 0 only if every check passed.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  CHAOS_SYSTEM_ENV,
  ChaosTarget,
  Episode,
  formatAlerts,
  formatCheck,
  formatFailures,
  formatMarkdownTable,
  formatTable,
  isService,
  parseFaults,
  pidListeningOn,
  runChaos,
  ServerName,
  ServiceName,
} from '@orderflow/chaos';
import {
  AlertRecorder,
  DEV_METRICS_PORTS,
  DEV_PORTS,
  devSystemEnv,
  dropSystemData,
  ensurePackages,
  MetricsPorts,
  mariadbPorts,
  PROFILES,
  PROMETHEUS_PACKAGES,
  recordAlerts,
  RunningPrometheus,
  RunningSystem,
  ServerWatch,
  stackStatus,
  startPrometheus,
  startStack,
  startSystem,
  stopStack,
  SupervisorEvent,
  SystemOptions,
  SystemPorts,
  systemScrapeJobs,
  watchStack,
  workspaceRoot,
} from '@orderflow/stack';
import { DEV_JWT_SECRET } from '../../apps/gateway/src/config';
import { signDevToken } from '../../apps/gateway/src/dev-token';

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const number = (name: string, fallback: number) => {
  const value = Number(option(name) ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const AGAINST_RUNNING = option('--against') === 'running';
const SECONDS = number('--seconds', 10);
const CLIENTS = number('--clients', 8);
const REDIS = number('--redis', 1);
const REPLICAS = number('--replicas', 1);
const PROMETHEUS = args.includes('--prometheus');
const FAULTS = parseFaults(option('--faults'));
const PROFILE = 'chaos';

const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);

/**
 * What this command started, stopped on the way out (also on Ctrl-C or a failure): supervision and the
 * services first (a Ctrl-C reaches the services too, and their exits must not be restarted), then
 * Prometheus, then the stack; within each stage, the last started first.
 */
const cleanups: { what: string; stage: 0 | 1 | 2; run: () => Promise<unknown> }[] = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    const order = cleanups.map((c, i) => ({ ...c, i })).sort((a, b) => a.stage - b.stage || b.i - a.i);
    for (const { what, run } of order) {
      await run().catch((error: unknown) => console.error(`could not stop ${what}: ${error instanceof Error ? error.message : String(error)}`));
    }
  })();
  return cleaning;
}
let abort: ((error: Error) => void) | undefined;
const aborted = new Promise<never>((_, reject) => (abort = reject));
aborted.catch(() => undefined);

function onSupervisorEvent(event: SupervisorEvent): void {
  log(event.message);
  if (event.kind === 'gave-up' || event.kind === 'stopped') abort?.(new Error(`${event.name}: ${event.message}`));
}

const serverPort = (ports: { mysql: number; redis: number; nats: number }, server: ServerName) =>
  server === 'mariadb' ? ports.mysql : server === 'redis' ? ports.redis : ports.nats;

/** The pid of the service process a fault hits: replica 0 (with replicas, one gateway worker). */
const servicePid = (system: RunningSystem, service: ServiceName) => system.pid(service, 0);

async function startOwn(): Promise<{ target: ChaosTarget; ports: Pick<SystemPorts, 'gateway'>; metricsPorts: MetricsPorts[] }> {
  const profile = PROFILES[PROFILE]!;
  const wasRunning = (await stackStatus(PROFILE)).some((s) => s.running);
  log(
    `starting the ${PROFILE} stack ` +
      `(MariaDB ${mariadbPorts(profile).join(', ')}, Redis ${profile.redisPorts.slice(0, REDIS).join(', ')}, NATS ${profile.natsPort})` +
      (wasRunning ? ': some of it was running already and is left running' : ''),
  );
  if (!wasRunning) cleanups.push({ what: 'the chaos stack', stage: 2, run: () => stopStack({ profile: PROFILE, log: () => undefined }) });
  const stack = await startStack({ profile: PROFILE, redisCount: REDIS, log: () => undefined });
  // The same watcher `npm start` runs: a killed server is started again on its data and port.
  const watch: ServerWatch = watchStack({ profile: PROFILE, redisCount: REDIS, onEvent: onSupervisorEvent });
  cleanups.push({ what: 'the stack watcher', stage: 0, run: () => watch.stop() });
  const tag = `chaos${process.pid}`;
  const systemOptions: SystemOptions = {
    stack,
    tag,
    env: CHAOS_SYSTEM_ENV,
    logLevel: option('--log-level') ?? 'warn',
    stdio: args.includes('--service-logs') ? 'inherit' : 'ignore',
    supervision: { onEvent: onSupervisorEvent },
    replicas: REPLICAS,
  };
  log(
    `starting the services (tag ${tag}; ${Object.entries(CHAOS_SYSTEM_ENV)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')})`,
  );
  const starting = startSystem(systemOptions);
  cleanups.push({
    what: 'the services',
    stage: 0,
    run: async () => {
      const system = await starting.catch(() => undefined);
      if (!system) return;
      await system.stop();
      await dropSystemData(system.env);
    },
  });
  const system = await starting;
  const ports = { mysql: profile.mysqlPort, redis: profile.redisPorts[0]!, nats: profile.natsPort };
  return {
    target: {
      url: system.gatewayUrl,
      env: system.env,
      pidOf: (unit) => (isService(unit) ? servicePid(system, unit) : pidListeningOn(serverPort(ports, unit))),
      // Gateway workers share their primary's listening socket: the killed one is replaced once the
      // primary runs all its workers again (the run also waits for /readyz and a 201). Every other unit owns its port.
      serving: (unit, pid) =>
        unit === 'gateway' && REPLICAS > 1
          ? system.processes().filter((p) => p.service === 'gateway').length === REPLICAS
          : pidListeningOn(isService(unit) ? system.ports[unit] : serverPort(ports, unit)) === pid,
    },
    ports: system.ports,
    metricsPorts: system.replicaMetricsPorts,
  };
}

async function useRunning(): Promise<{ target: ChaosTarget; ports: Pick<SystemPorts, 'gateway'>; metricsPorts: MetricsPorts[] }> {
  const url = `http://127.0.0.1:${DEV_PORTS.gateway}`;
  const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
    (r) => r.status === 200,
    () => false,
  );
  if (!ready) throw new Error(`no running system: ${url}/readyz does not answer 200 (start one with npm start)`);
  const dev = PROFILES.dev!;
  const ports = { mysql: dev.mysqlPort, redis: dev.redisPorts[0]!, nats: dev.natsPort };
  log(
    `using the running system at ${url} (processes found by their ports: services ${Object.values(DEV_PORTS).join(', ')}; ` +
      `MariaDB ${ports.mysql}, Redis ${ports.redis}, NATS ${ports.nats})`,
  );
  return {
    target: {
      url,
      env: devSystemEnv(),
      pidOf: (unit) => pidListeningOn(isService(unit) ? DEV_PORTS[unit] : serverPort(ports, unit)),
      serving: () => true, // found by its listening port: it serves
    },
    ports: DEV_PORTS,
    metricsPorts: [DEV_METRICS_PORTS],
  };
}

async function main(): Promise<number> {
  const command = `npm run chaos -- ${args.join(' ')}`.trim();
  const { target, ports, metricsPorts } = AGAINST_RUNNING ? await useRunning() : await startOwn();
  let recorder: AlertRecorder | undefined;
  if (PROMETHEUS) {
    ensurePackages(log, PROMETHEUS_PACKAGES);
    const prometheus: RunningPrometheus = await startPrometheus({
      jobs: systemScrapeJobs(ports, metricsPorts),
      ruleFiles: [path.join(workspaceRoot(), 'deploy', 'prometheus', 'alerts.yaml')],
      ruleFor: '0s',
    });
    cleanups.push({ what: 'prometheus', stage: 1, run: () => prometheus.stop() });
    recorder = recordAlerts(prometheus, 500);
    cleanups.push({ what: 'the alert recorder', stage: 1, run: () => recorder!.stop() });
    log(`prometheus at ${prometheus.url}, alert rules with for: 0s (OrderflowGatewayNotReady reads kube-state-metrics and cannot fire here)`);
  }
  const report = await Promise.race([
    runChaos({
      target,
      faults: FAULTS,
      secondsPerFault: SECONDS,
      clients: CLIENTS,
      token: (customer, options) => signDevToken(process.env.JWT_SECRET ?? DEV_JWT_SECRET, customer, options),
      log,
      alertEpisodes: recorder ? async () => (await recorder!.stop()) as Episode[] : undefined,
      alertInstanceNames: Object.fromEntries(
        [['gateway', ports.gateway] as const, ...Object.entries(metricsPorts)].map(([name, port]) => [`127.0.0.1:${port}`, name]),
      ),
      replicas: REPLICAS, // what a service fault may cost (faultAllowance)
      // A running system has the default PENDING_TIMEOUT_MS (30 s): wait longer for it to settle.
      settleTimeoutMs: AGAINST_RUNNING ? 180_000 : 90_000,
    }),
    aborted,
  ]);

  console.log(`\n== faults (${SECONDS} s windows, ${CLIENTS} clients, ${report.operations} operations; run ${report.runId})`);
  console.log(formatTable(report.stats));
  console.log(`\n== what the 5xx and transport errors were\n${formatFailures(report.stats)}`);
  if (args.includes('--markdown')) console.log(`\n${formatMarkdownTable(report.stats)}`);
  if (PROMETHEUS) console.log(`\n== alerts per fault (fired / resolved, seconds after the fault)\n${formatAlerts(report.stats)}`);
  console.log('\n== checks');
  for (const check of report.checks) console.log(formatCheck(check));
  console.log(`\n${report.pass ? 'all checks passed' : 'SOME CHECKS FAILED'} (${command})`);
  fs.mkdirSync(path.join(workspaceRoot(), 'reports'), { recursive: true });
  fs.writeFileSync(path.join(workspaceRoot(), 'reports', 'chaos.json'), JSON.stringify({ command, ...report }, null, 2));
  return report.pass ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping what this command started...`);
    void cleanUp().finally(() => process.exit(130));
  });
}

main().then(
  async (code) => {
    await cleanUp();
    process.exit(code);
  },
  async (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    await cleanUp();
    process.exit(1);
  },
);
