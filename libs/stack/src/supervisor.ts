/**
 * Restarts what dies unexpectedly (the service processes of `startSystem`, the stack's servers), with a
 * capped exponential backoff, and gives up on a crash loop instead of spinning. The policy is pure
 * (`decideAfterCrash`, clock passed in); the `Supervisor` runs it with timers.
 */

export interface RestartPolicy {
  /** Delay before restarting after the first crash in the window; each further crash in it doubles it. */
  backoffBaseMs: number;
  /** The most a restart is ever delayed. */
  backoffCapMs: number;
  /** More than `crashLimit` crashes within `crashWindowMs` is a crash loop: give up. */
  crashWindowMs: number;
  crashLimit: number;
}

/** What `npm start` uses: 0.5 s, 1 s, 2 s, 4 s, 8 s (cap 10 s); the 6th crash within 60 s stops everything. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = { backoffBaseMs: 500, backoffCapMs: 10_000, crashWindowMs: 60_000, crashLimit: 5 };

export type CrashDecision = { action: 'restart'; recentCrashes: number; delayMs: number } | { action: 'give-up'; recentCrashes: number };

/** The delay before restart number `recentCrashes` (1-based) of a window. */
export function backoffMs(policy: RestartPolicy, recentCrashes: number): number {
  return Math.min(policy.backoffCapMs, policy.backoffBaseMs * 2 ** Math.max(0, recentCrashes - 1));
}

/** Given the earlier crash times of one unit and a crash now: the crash times to keep, and what to do. */
export function decideAfterCrash(policy: RestartPolicy, crashTimes: readonly number[], now: number): { crashTimes: number[]; decision: CrashDecision } {
  const recent = [...crashTimes.filter((t) => now - t < policy.crashWindowMs), now];
  if (recent.length > policy.crashLimit) return { crashTimes: recent, decision: { action: 'give-up', recentCrashes: recent.length } };
  return { crashTimes: recent, decision: { action: 'restart', recentCrashes: recent.length, delayMs: backoffMs(policy, recent.length) } };
}

export type SupervisorEvent =
  /** `name` died (`how`: exit code, signal, gone pid) and restart number `restart` follows in `delayMs`. */
  | { kind: 'crashed'; name: string; how: string; restart: number; delayMs: number; message: string }
  | { kind: 'restarted'; name: string; restart: number; message: string }
  /** A crash loop: nothing more is restarted; whoever runs the system should stop it. */
  | { kind: 'gave-up'; name: string; how: string; crashes: number; message: string }
  /** Something stopped `name` on purpose from outside (`npm run down`): it is not restarted. */
  | { kind: 'stopped'; name: string; message: string };

export interface SupervisorOptions {
  policy?: Partial<RestartPolicy>;
  /** Each crash, restart and the giving up; by default their messages go to stderr. */
  onEvent?: (event: SupervisorEvent) => void;
  /** The clock of the crash window (tests pass their own). */
  now?: () => number;
}

/** A restart that waits for its timer (timer set) or runs; `done` settles when it is over or dropped. */
interface Pending {
  timer?: NodeJS.Timeout;
  done: Promise<void>;
  release: () => void;
}

export class Supervisor {
  readonly policy: RestartPolicy;
  private readonly onEvent: (event: SupervisorEvent) => void;
  private readonly now: () => number;
  private readonly crashTimes = new Map<string, number[]>();
  private readonly restarts = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  private stopped = false;

  constructor(options: SupervisorOptions = {}) {
    this.policy = { ...DEFAULT_RESTART_POLICY, ...options.policy };
    this.onEvent = options.onEvent ?? ((event) => console.error(event.message));
    this.now = options.now ?? Date.now;
  }

  /** Whether a restart of `name` is waiting or running. */
  restarting(name: string): boolean {
    return this.pending.has(name);
  }

  /**
   * `name` died unexpectedly: restart it with `restart` after the backoff, or give up on a crash loop.
   * A restart that fails counts as another crash. Ignored after stop() and while a restart is pending.
   */
  crashed(name: string, how: string, restart: () => Promise<void>): void {
    if (this.stopped || this.pending.has(name)) return;
    const { crashTimes, decision } = decideAfterCrash(this.policy, this.crashTimes.get(name) ?? [], this.now());
    this.crashTimes.set(name, crashTimes);
    if (decision.action === 'give-up') {
      const seconds = Math.round(this.policy.crashWindowMs / 1000);
      this.onEvent({
        kind: 'gave-up',
        name,
        how,
        crashes: decision.recentCrashes,
        message: `supervisor: ${name} crashed ${decision.recentCrashes} times within ${seconds} s (last: ${how}); a crash loop, giving up`,
      });
      return;
    }
    const count = (this.restarts.get(name) ?? 0) + 1;
    this.restarts.set(name, count);
    this.onEvent({
      kind: 'crashed',
      name,
      how,
      restart: count,
      delayMs: decision.delayMs,
      message: `supervisor: ${name} died (${how}); restart ${count} in ${decision.delayMs} ms`,
    });
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const entry: Pending = { done, release };
    this.pending.set(name, entry);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      restart().then(
        () => {
          this.pending.delete(name);
          if (!this.stopped) this.onEvent({ kind: 'restarted', name, restart: count, message: `supervisor: ${name} is back (restart ${count})` });
          entry.release();
        },
        (error: unknown) => {
          this.pending.delete(name);
          entry.release();
          this.crashed(name, `restart failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, restart);
        },
      );
    }, decision.delayMs);
  }

  /**
   * Before a deliberate restart of `name` (RunningSystem.restart): a waiting restart is dropped, a
   * running one is waited for, so the two never start the same process twice.
   */
  async settle(name: string): Promise<void> {
    for (let entry = this.pending.get(name); entry; entry = this.pending.get(name)) {
      if (entry.timer) {
        this.drop(name, entry);
        return;
      }
      await entry.done;
    }
  }

  /** Reports a deliberate stop from outside; nothing is restarted for it. */
  stoppedOutside(name: string, message: string): void {
    if (!this.stopped) this.onEvent({ kind: 'stopped', name, message });
  }

  /** No more restarts: waiting ones are dropped, and running ones are waited for (stop what they started after). */
  async stop(): Promise<void> {
    this.stopped = true;
    const waiting = [...this.pending.entries()];
    for (const [name, entry] of waiting) if (entry.timer) this.drop(name, entry);
    await Promise.all([...this.pending.values()].map((entry) => entry.done));
  }

  private drop(name: string, entry: Pending): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    this.pending.delete(name);
    entry.release();
  }

  /** Whether stop() was called. */
  get isStopped(): boolean {
    return this.stopped;
  }
}
