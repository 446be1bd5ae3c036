import { Answer, classify } from './outcome';

/**
 * What the clients did, kept for the checks and the per-fault table: each operation (a placement under
 * its idempotency key, a pay, a cancel) with every attempt at it, first try and retries alike.
 */

export type OperationKind = 'place' | 'pay' | 'cancel';

export interface Attempt extends Answer {
  /** Epoch ms when the request was sent and when its answer (or error) came. */
  sentAt: number;
  endedAt: number;
  /** A retry after recovery (not counted in the fault window's requests). */
  retry: boolean;
  /** The order id in a 2xx body. */
  orderId?: string;
}

export interface Operation {
  kind: OperationKind;
  customer: string;
  /** The Idempotency-Key (every POST has one; a retry resends it), the placement's body, the order paid or cancelled. */
  key?: string;
  body?: unknown;
  orderId?: string;
  attempts: Attempt[];
}

/** The first definite attempt: the operation's answer. */
export const definiteAnswer = (op: Operation): Attempt | undefined => op.attempts.find((a) => classify(a) === 'definite');
export const isUnknown = (op: Operation): boolean => definiteAnswer(op) === undefined;

/** One fault window: load before the fault, the fault at `faultAt`, until recovered (and at least the window's length). */
export interface FaultWindow {
  fault: string;
  startedAt: number;
  faultAt: number;
  /** When the unit was back and serving (undefined: it never recovered within the bound). */
  recoveredAt?: number;
  endedAt: number;
  /** The unknown operations of this window left after the retries (set once the retries ran). */
  unknownAfterRetries?: number;
  /** Alerts seen in this window (with --prometheus). */
  alerts?: string[];
}

export interface WindowStats {
  fault: string;
  requests: number;
  ok2xx: number;
  client4xx: number;
  server5xx: number;
  transportErrors: number;
  /** What the 5xx and transport errors were: `503 /problems/unavailable`, `ECONNREFUSED`, ... with counts. */
  failures: Record<string, number>;
  /** Seconds from the fault to the first 201 of a placement sent after it (undefined: none). */
  firstCreatedAfterFaultS?: number;
  recoveredAfterS?: number;
  /** Operations first tried in the window that had no definite answer when the window ended. */
  unknownBefore: number;
  unknownAfter?: number;
  alerts?: string[];
}

/** The window's figures from the operations' first attempts (retries are outside every window). */
export function windowStats(window: FaultWindow, operations: readonly Operation[]): WindowStats {
  const inWindow = (t: number) => t >= window.startedAt && t < window.endedAt;
  const attempts = operations.flatMap((op) => op.attempts.filter((a) => !a.retry && inWindow(a.sentAt)).map((a) => ({ op, a })));
  const firstCreated = attempts
    .filter(({ op, a }) => op.kind === 'place' && a.status === 201 && a.sentAt >= window.faultAt)
    .reduce<number | undefined>((min, { a }) => (min === undefined || a.endedAt < min ? a.endedAt : min), undefined);
  const opened = operations.filter((op) => op.attempts[0] && !op.attempts[0].retry && inWindow(op.attempts[0].sentAt));
  return {
    fault: window.fault,
    requests: attempts.length,
    ok2xx: attempts.filter(({ a }) => a.status !== undefined && a.status >= 200 && a.status < 300).length,
    client4xx: attempts.filter(({ a }) => a.status !== undefined && a.status >= 400 && a.status < 500).length,
    server5xx: attempts.filter(({ a }) => a.status !== undefined && a.status >= 500).length,
    transportErrors: attempts.filter(({ a }) => a.error !== undefined).length,
    failures: attempts
      .filter(({ a }) => a.error !== undefined || (a.status ?? 0) >= 500)
      .reduce<Record<string, number>>((acc, { a }) => {
        const what = a.error ?? `${a.status}${a.problemType ? ` ${a.problemType}` : ''}`;
        return { ...acc, [what]: (acc[what] ?? 0) + 1 };
      }, {}),
    firstCreatedAfterFaultS: firstCreated === undefined ? undefined : (firstCreated - window.faultAt) / 1000,
    recoveredAfterS: window.recoveredAt === undefined ? undefined : (window.recoveredAt - window.faultAt) / 1000,
    unknownBefore: opened.filter((op) => !op.attempts.some((a) => !a.retry && classify(a) === 'definite')).length,
    unknownAfter: window.unknownAfterRetries,
    alerts: window.alerts,
  };
}

/** The operations first tried within the window (what its retries must settle). */
export function operationsOf(window: FaultWindow, operations: readonly Operation[]): Operation[] {
  return operations.filter((op) => op.attempts[0] && op.attempts[0].sentAt >= window.startedAt && op.attempts[0].sentAt < window.endedAt);
}
