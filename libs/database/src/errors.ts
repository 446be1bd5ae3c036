import { ConnectionError, TimeoutError } from 'sequelize';

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN']);

/** Whether a database error means "the server is not reachable now" (so: UNAVAILABLE, try later). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof ConnectionError || error instanceof TimeoutError) return true;
  const code = error as { parent?: { code?: string }; original?: { code?: string }; code?: string } | undefined;
  const value = code?.parent?.code ?? code?.original?.code ?? code?.code;
  return value !== undefined && UNAVAILABLE_CODES.has(value);
}

/** MySQL's "Duplicate entry" on a unique key. */
export function isDuplicateKey(error: unknown): boolean {
  const e = error as { name?: string; code?: string; parent?: { code?: string } } | undefined;
  return e?.name === 'SequelizeUniqueConstraintError' || e?.parent?.code === 'ER_DUP_ENTRY' || e?.code === 'ER_DUP_ENTRY';
}

/** Deadlocks and lock wait time-outs: the transaction was rolled back and may simply be run again. */
export function isTransientConflict(error: unknown): boolean {
  const e = error as { code?: string; parent?: { code?: string } } | undefined;
  const code = e?.parent?.code ?? e?.code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}

/**
 * An error a stored program raised with SIGNAL (MySQL's ER_SIGNAL_EXCEPTION): a refusal of this statement's
 * own, like a duplicate key, not a sign that the connection or the server failed.
 */
export function isSignalled(error: unknown): boolean {
  const e = error as { code?: string; parent?: { code?: string } } | undefined;
  return (e?.parent?.code ?? e?.code) === 'ER_SIGNAL_EXCEPTION';
}

/**
 * A CHECK constraint refused the row a statement wrote (MariaDB's ER_CONSTRAINT_FAILED, errno 4025; MySQL
 * 8's ER_CHECK_CONSTRAINT_VIOLATED, 3819). The statement changed nothing, and in a multi-statement query
 * nothing after it ran: a write can use it to abort its transaction by itself, in the round trip that
 * would have committed it.
 */
export function isCheckViolation(error: unknown): boolean {
  const e = error as { errno?: number; parent?: { errno?: number } } | undefined;
  const errno = e?.parent?.errno ?? e?.errno;
  return errno === 4025 || errno === 3819;
}
