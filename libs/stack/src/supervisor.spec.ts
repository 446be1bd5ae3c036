import { backoffMs, decideAfterCrash, DEFAULT_RESTART_POLICY, RestartPolicy, Supervisor, SupervisorEvent } from './supervisor';

const policy: RestartPolicy = { backoffBaseMs: 500, backoffCapMs: 3_000, crashWindowMs: 60_000, crashLimit: 5 };

/** Feeds crashes at the given times through the pure policy; returns each decision. */
function crashesAt(times: number[], p = policy) {
  let kept: number[] = [];
  return times.map((now) => {
    const { crashTimes, decision } = decideAfterCrash(p, kept, now);
    kept = crashTimes;
    return decision;
  });
}

describe('restart policy', () => {
  it('when crashes follow each other, then the delay doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(policy, n))).toEqual([500, 1_000, 2_000, 3_000, 3_000, 3_000]);
  });

  it('when a sixth crash comes within 60 s of the first, then the supervisor gives up (5 restarts, not 6)', () => {
    const decisions = crashesAt([0, 1_000, 5_000, 10_000, 20_000, 59_999]);
    expect(decisions.slice(0, 5).map((d) => d.action)).toEqual(['restart', 'restart', 'restart', 'restart', 'restart']);
    expect(decisions[5]).toEqual({ action: 'give-up', recentCrashes: 6 });
  });

  it('when earlier crashes fall out of the window, then they are forgotten and the backoff starts over', () => {
    const decisions = crashesAt([0, 1_000, 5_000, 10_000, 20_000, 60_000 + 20_001]);
    expect(decisions[5]).toEqual({ action: 'restart', recentCrashes: 1, delayMs: 500 });
  });

  it('when nothing is configured, then npm start restarts after 0.5, 1, 2, 4 and 8 s and gives up at the sixth crash in 60 s', () => {
    expect(DEFAULT_RESTART_POLICY).toEqual({ backoffBaseMs: 500, backoffCapMs: 10_000, crashWindowMs: 60_000, crashLimit: 5 });
    const decisions = crashesAt([0, 1, 2, 3, 4, 5], DEFAULT_RESTART_POLICY);
    expect(decisions.map((d) => (d.action === 'restart' ? d.delayMs : d.action))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 'give-up']);
  });
});

describe('Supervisor', () => {
  const fast = { backoffBaseMs: 5, backoffCapMs: 20, crashWindowMs: 60_000, crashLimit: 2 };
  const until = async (check: () => boolean) => {
    const deadline = Date.now() + 5_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  it('when a unit crashes, then it is restarted and the log lines name it, how it died and the restart count', async () => {
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor({ policy: fast, onEvent: (e) => events.push(e) });
    let starts = 0;
    supervisor.crashed('inventory', 'signal SIGKILL', async () => void starts++);
    await until(() => events.some((e) => e.kind === 'restarted'));
    expect(starts).toBe(1);
    expect(events.map((e) => e.message)).toEqual([
      'supervisor: inventory died (signal SIGKILL); restart 1 in 5 ms',
      'supervisor: inventory is back (restart 1)',
    ]);
  });

  it('when restarts keep failing, then they count as crashes until the crash loop gives up, naming the unit and the last cause', async () => {
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor({ policy: fast, onEvent: (e) => events.push(e) });
    let starts = 0;
    supervisor.crashed('gateway', 'exit code 1', async () => {
      starts++;
      throw new Error('gateway exited (code 1) while starting');
    });
    await until(() => events.some((e) => e.kind === 'gave-up'));
    expect(starts).toBe(2);
    expect(events.at(-1)).toMatchObject({ kind: 'gave-up', name: 'gateway', crashes: 3 });
    expect(events.at(-1)!.message).toBe(
      'supervisor: gateway crashed 3 times within 60 s (last: restart failed: gateway exited (code 1) while starting); a crash loop, giving up',
    );
  });

  it('when crashes are spread wider than the window on its clock, then each is restarted after the base delay and it never gives up', async () => {
    let clock = 0;
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor({ policy: fast, now: () => clock, onEvent: (e) => events.push(e) });
    for (let i = 1; i <= 4; i++) {
      supervisor.crashed('inventory', 'exit code 1', async () => undefined);
      await until(() => !supervisor.restarting('inventory'));
      clock += 60_000;
    }
    expect(events.filter((e) => e.kind === 'crashed').map((e) => (e.kind === 'crashed' ? [e.restart, e.delayMs] : []))).toEqual([
      [1, 5],
      [2, 5],
      [3, 5],
      [4, 5],
    ]);
    expect(events.some((e) => e.kind === 'gave-up')).toBe(false);
  });

  it('when a deliberate restart settles a waiting one, then the waiting restart never runs', async () => {
    const supervisor = new Supervisor({ policy: { ...fast, backoffBaseMs: 50 }, onEvent: () => undefined });
    let starts = 0;
    supervisor.crashed('gateway', 'signal SIGKILL', async () => void starts++);
    await supervisor.settle('gateway');
    await new Promise((r) => setTimeout(r, 150));
    expect(starts).toBe(0);
    expect(supervisor.restarting('gateway')).toBe(false);
  });

  it('when it is stopped while a restart waits, then the restart never runs and later crashes are ignored', async () => {
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor({ policy: { ...fast, backoffBaseMs: 50 }, onEvent: (e) => events.push(e) });
    let starts = 0;
    supervisor.crashed('orderQuery', 'exit code 1', async () => void starts++);
    await supervisor.stop();
    supervisor.crashed('orderQuery', 'exit code 1', async () => void starts++);
    await new Promise((r) => setTimeout(r, 150));
    expect(starts).toBe(0);
    expect(events.map((e) => e.kind)).toEqual(['crashed']);
    expect(supervisor.restarting('orderQuery')).toBe(false);
  });

  it('when it is stopped while a restart runs, then stop() waits for that restart to finish', async () => {
    const supervisor = new Supervisor({ policy: fast, onEvent: () => undefined });
    let began = false;
    let finished = false;
    supervisor.crashed('orderRelay', 'signal SIGKILL', async () => {
      began = true;
      await new Promise((r) => setTimeout(r, 100));
      finished = true;
    });
    await until(() => began);
    await supervisor.stop();
    expect(finished).toBe(true);
  });
});
