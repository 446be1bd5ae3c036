export type OrderQueryErrorReason = 'invalid-argument' | 'invalid-page-token' | 'not-found' | 'permission-denied' | 'unavailable';

export interface FieldViolation {
  field: string;
  description: string;
}

/** Every error a query means to tell a caller about; the transport maps `reason`. */
export abstract class OrderQueryError extends Error {
  abstract readonly reason: OrderQueryErrorReason;
}

export class InvalidArgumentError extends OrderQueryError {
  readonly reason: OrderQueryErrorReason = 'invalid-argument';
  constructor(readonly violations: FieldViolation[]) {
    super(violations.map((v) => `${v.field}: ${v.description}`).join('; '));
  }
}

/** A page token that was altered, is malformed, or was minted for another customer. */
export class InvalidPageTokenError extends InvalidArgumentError {
  override readonly reason = 'invalid-page-token';
  constructor() {
    super([{ field: 'page_token', description: 'is not a page token this service issued for this customer' }]);
  }
}

/** Not projected (yet), or another customer's order: the two are indistinguishable on purpose. */
export class OrderNotFoundError extends OrderQueryError {
  readonly reason = 'not-found';
  constructor(orderId: string) {
    super(`order ${orderId} not found`);
  }
}

/** The actor may not make this query (a customer asking for the admin listing). */
export class PermissionDeniedError extends OrderQueryError {
  readonly reason = 'permission-denied';
  constructor(what: string) {
    super(`${what} is for admins only`);
  }
}

/** A read shard or NATS could not be reached. */
export class DependencyUnavailableError extends OrderQueryError {
  readonly reason = 'unavailable';
  constructor(
    readonly dependency: string,
    cause?: unknown,
  ) {
    super(`${dependency} is unavailable`, { cause });
  }
}

/**
 * An event that can never be applied (undecodable, or breaking the event contract): a poison message.
 * The consumer dead-letters it instead of retrying.
 */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/**
 * The order's bucket is being moved between read shards (ADR 0009) and its writes stayed fenced for longer
 * than a projection waits: nothing was written. Not the event's fault: it is redelivered later, by then
 * on the shard the move switched it to.
 */
export class ReadShardMovingError extends Error {
  constructor(
    readonly bucket: number,
    readonly waitedMs: number,
  ) {
    super(`the read shard of bucket ${bucket} is being switched: its writes stayed fenced for ${waitedMs} ms`);
    this.name = 'ReadShardMovingError';
  }
}
