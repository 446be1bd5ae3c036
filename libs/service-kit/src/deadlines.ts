import { ConfigError } from './config';
import { currentCallContext, runInCallContext } from './request-context';

/*
 * The deadline of the gRPC call being served is carried through its async work (use cases included,
 * without them knowing gRPC; request-context.ts), so that every call it makes and every wait it does
 * ends before its caller gives up: deadlines propagate hop to hop (docs/operations.md, "Timeout chain").
 */

/** A gRPC deadline as a date; undefined for none (undefined, Infinity, or not a time). */
export function deadlineDate(deadline: Date | number | undefined): Date | undefined {
  const at = deadline === undefined || deadline === Infinity ? undefined : new Date(deadline);
  return at && !Number.isNaN(at.getTime()) ? at : undefined;
}

/** Runs `work` with `deadline` (undefined or Infinity: none) as the current call's deadline. */
export function runWithDeadline<T>(deadline: Date | number | undefined, work: () => T): T {
  const at = deadlineDate(deadline);
  return runInCallContext(at ? { deadline: at } : {}, work);
}

/** The deadline of the call being served, if any (undefined in background work such as sweepers). */
export function currentDeadline(): Date | undefined {
  return currentCallContext()?.deadline;
}

/** A deadline for an outgoing call: `ms` from now, but never later than the call being served. */
export function cappedDeadline(ms: number, now = Date.now()): Date {
  const own = now + ms;
  const caller = currentDeadline()?.getTime();
  return new Date(caller === undefined ? own : Math.min(own, caller));
}

/**
 * How long an inner wait may last: at most `ms`, and short of the caller's deadline by `marginMs`, so
 * that its own answer (a refusal, a retry hint) still reaches the caller in time. Never negative.
 */
export function cappedWaitMs(ms: number, marginMs: number, now = Date.now()): number {
  const caller = currentDeadline()?.getTime();
  return Math.max(0, caller === undefined ? ms : Math.min(ms, caller - now - marginMs));
}

/** How long before the caller's deadline a service answers a wait it gave up (room for the answer's trip). */
export const ANSWER_MARGIN_MS = 250;

export interface TimeoutRule {
  /** The inner wait or deadline, by its variable name, and its value. */
  inner: [string, number];
  /** What must outlast it: the caller's deadline (or another bound), by variable name, and its value. */
  outer: [string, number];
  why: string;
}

/**
 * Refuses an incoherent timeout chain at start: every inner wait shorter than what must outlast it.
 * Throws a ConfigError naming both variables of every broken rule.
 */
export function checkTimeoutChain(rules: TimeoutRule[]): void {
  const broken = rules
    .filter((r) => !(r.inner[1] < r.outer[1]))
    .map((r) => `${r.inner[0]} (${r.inner[1]} ms) must be shorter than ${r.outer[0]} (${r.outer[1]} ms): ${r.why}`);
  if (broken.length > 0) throw new ConfigError(broken);
}
