import { AsyncLocalStorage } from 'node:async_hooks';
import type { Metadata } from '@grpc/grpc-js';

/**
 * What the gRPC call being served carries through its async work (its use case included, without it
 * knowing gRPC): its deadline (see deadlines.ts) and the request id it came with. One store for both,
 * so a served call costs one context.
 */
export interface CallContext {
  deadline?: Date;
  requestId?: string;
}

const current = new AsyncLocalStorage<CallContext>();

/** Runs `work` as the served call `context` describes. */
export function runInCallContext<T>(context: CallContext, work: () => T): T {
  return current.run(context, work);
}

export function currentCallContext(): CallContext | undefined {
  return current.getStore();
}

/** The request id of the call being served, if it came with one (undefined in background work such as sweepers). */
export function currentRequestId(): string | undefined {
  return current.getStore()?.requestId;
}

/** The gRPC metadata key (and HTTP header) of the request id: the gateway's, sent on every downstream call. */
export const REQUEST_ID_KEY = 'x-request-id';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A request id this system passes on and logs: 1-128 of [A-Za-z0-9._:-]. */
export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID.test(value);
}

/** The request id a call came with, if well-formed. */
export function requestIdOf(metadata: Metadata): string | undefined {
  const [value] = metadata.get(REQUEST_ID_KEY);
  return isRequestId(value) ? value : undefined;
}

/**
 * A pino `mixin`: every line logged while a call is served carries its request id as `reqId`. A new
 * object each time: pino merges the line's own fields into it.
 */
export function requestIdMixin(): { reqId?: string } {
  const requestId = current.getStore()?.requestId;
  return requestId === undefined ? {} : { reqId: requestId };
}
