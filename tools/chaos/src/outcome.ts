/**
 * What a client makes of an answer. Definite: the server decided, and a retry with the same key and body
 * gets the same answer (Stripe's semantics), or the transition is already where it was asked to go.
 * Unknown: no answer (timeout, reset, refused), a 5xx (the outcome may or may not have happened), a 429
 * (nothing was done: try later) or 409 idempotency-key-in-flight (the first call with the key still runs).
 */

/** One HTTP attempt as the client saw it: a status (and the problem type, if any), or a transport error. */
export interface Answer {
  status?: number;
  /** problem+json `type`, for the 4xx that need telling apart. */
  problemType?: string;
  /** A transport failure: 'timeout', 'ECONNREFUSED', 'ECONNRESET', 'other: ...'. */
  error?: string;
}

export type Outcome = 'definite' | 'unknown';

export const IN_FLIGHT_PROBLEM = '/problems/idempotency-key-in-flight';

export function classify(answer: Answer): Outcome {
  if (answer.error !== undefined || answer.status === undefined) return 'unknown';
  if (answer.status >= 500) return 'unknown';
  if (answer.status === 429) return 'unknown';
  if (answer.status === 409 && answer.problemType === IN_FLIGHT_PROBLEM) return 'unknown';
  return 'definite';
}

/** The kind of a transport error, from what fetch threw (undici wraps the socket error in `cause`). */
export function transportError(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.cause?.name === 'TimeoutError') return 'timeout';
  const code = e?.cause?.code ?? e?.code;
  if (code) return code;
  return `other: ${(e?.cause?.message ?? e?.message ?? String(error)).slice(0, 80)}`;
}
