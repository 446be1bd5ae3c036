import { dropSystemData, RunningSystem, startSystem, SupervisorEvent, testStack } from '@orderflow/stack';
import { CHAOS_SYSTEM_ENV, ChaosReport, formatCheck, formatFailures, formatTable, isService, parseFaults, pidListeningOn, runChaos } from '../src';
import { devToken } from './dev-token';

/**
 * The short chaos run of `npm test` (the full one is `npm run chaos`): the five service processes on the
 * test stack, supervised, under REST load from a few clients; order-command's API and inventory killed
 * with SIGKILL, the gateway restarted gracefully. The test stack's servers are shared: never killed here.
 */
describe('a short chaos run (kill -9 of order-command and inventory, a graceful restart of the gateway)', () => {
  let system: RunningSystem | undefined;
  const events: SupervisorEvent[] = [];
  let report: ChaosReport;

  beforeAll(async () => {
    system = await startSystem({
      stack: testStack.info(),
      tag: `chaos${process.pid}`,
      env: CHAOS_SYSTEM_ENV,
      stdio: 'ignore',
      logLevel: 'warn',
      supervision: { onEvent: (e) => events.push(e) },
    });
    const running = system;
    report = await runChaos({
      target: {
        url: running.gatewayUrl,
        env: running.env,
        // Replicas: system.pid(service, 0).
        pidOf: (unit) => (isService(unit) ? running.pid(unit) : undefined),
        serving: (unit, pid) => isService(unit) && pidListeningOn(running.ports[unit]) === pid,
      },
      faults: parseFaults('kill:orderCommand,kill:inventory,term:gateway'),
      secondsPerFault: 4,
      clients: 3,
      token: devToken,
      log: () => undefined,
      replicas: 1,
      settleTimeoutMs: 40_000,
      retryTimeoutMs: 30_000,
    });
    // What a failure needs to be understood.
    console.log(`${formatTable(report.stats)}\n${formatFailures(report.stats)}\n${report.checks.map(formatCheck).join('\n')}`);
  }, 170_000);

  afterAll(async () => {
    if (!system) return;
    await system.stop();
    await dropSystemData(system.env);
  }, 60_000);

  it('when each fault hits mid-load, then supervision brings the process back and orders are placed again', () => {
    expect(report.stats.map((s) => s.fault)).toEqual(['kill:orderCommand', 'kill:inventory', 'term:gateway']);
    expect(report.stats.every((s) => s.recoveredAfterS !== undefined && s.firstCreatedAfterFaultS !== undefined)).toBe(true);
    // A restart that fails on a slow box is retried (another 'restarted' later): each came back at least once.
    expect(new Set(events.filter((e) => e.kind === 'restarted').map((e) => e.name))).toEqual(new Set(['orderCommand', 'inventory', 'gateway']));
    expect(events.filter((e) => e.kind === 'gave-up')).toEqual([]);
  });

  it('when the clients retry every unanswered request with the same key and body, then every check passes: nothing lost, no key twice, stock exact, the read side complete', () => {
    expect(report.checks.filter((c) => !c.pass).map(formatCheck)).toEqual([]);
    expect(report.checks.length).toBeGreaterThanOrEqual(9);
    expect(report.stats.every((s) => s.unknownAfter === 0)).toBe(true);
  });

  it('when the gateway is restarted gracefully, then it costs no 5xx', () => {
    // One process per service here; with two, no service fault costs a request: apps/gateway/test/
    // replicas.e2e.spec.ts, and `npm run chaos -- --replicas 2` (docs/reliability.md).
    const gateway = report.stats.find((s) => s.fault === 'term:gateway')!;
    expect(gateway.requests).toBeGreaterThan(0);
    expect(gateway.server5xx).toBe(0);
  });
});
