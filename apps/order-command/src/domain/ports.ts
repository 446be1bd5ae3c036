import type { OrderError } from './errors';
import type { Order, OrderEventRecord, OrderStatus, StockAction } from './model';
import type { TransitionSpec } from './order-state-machine';

/** The answer stored under an idempotency key: the order as first returned, or the error. */
export type StoredOutcome = { kind: 'order'; order: Order } | { kind: 'error'; error: OrderError };

export interface IdempotencyRecord {
  fingerprint: string;
  orderId: string;
  state: 'IN_FLIGHT' | 'DONE';
  outcome?: StoredOutcome;
}

export type ClaimResult = { kind: 'claimed' } | { kind: 'duplicate-id' } | { kind: 'existing-key'; record: IdempotencyRecord };

/** Orders on their shards. Every write is one transaction on the order's shard. */
export interface OrderRepository {
  /** Stores the order as PENDING (claiming its id) and, with a key, the key as IN_FLIGHT. */
  claim(order: Order, idempotency?: { key: string; fingerprint: string }): Promise<ClaimResult>;
  /** PENDING -> RESERVED with items, history, outbox event and the key's stored answer. False if no longer PENDING. */
  completePlacement(event: OrderEventRecord, idempotencyKey?: string): Promise<boolean>;
  /**
   * PENDING -> FAILED. With an outcome the key keeps it (a deterministic refusal is the answer);
   * without, the key is deleted so a retry starts afresh. `owesRelease` records a Release for the settler.
   */
  failPlacement(orderId: string, customerId: string, options: { idempotencyKey?: string; outcome?: StoredOutcome; owesRelease: boolean }): Promise<boolean>;
  findIdempotency(customerId: string, key: string): Promise<IdempotencyRecord | undefined>;
  get(orderId: string): Promise<Order | undefined>;
  /** The guarded UPDATE plus history and outbox; undefined when the order was not in a `from` state. */
  transition(orderId: string, spec: TransitionSpec, event: (order: Order) => OrderEventRecord, now: Date): Promise<Order | undefined>;
  markStockSettled(orderId: string): Promise<void>;
  /** Across every shard. */
  findExpired(now: Date, limit: number): Promise<string[]>;
  findStalePending(createdBefore: Date, limit: number): Promise<{ orderId: string; customerId: string }[]>;
  findUnsettled(changedBefore: Date, limit: number): Promise<{ orderId: string; action: StockAction; status: OrderStatus }[]>;
}

/** Inventory as order-command needs it; errors are domain errors (InsufficientStockError, ...). */
export interface InventoryPort {
  /** Price and stock available now of the known products; unknown ids are absent from the map. */
  catalog(productIds: string[]): Promise<Map<string, { priceMinor: number; available: number }>>;
  reserve(orderId: string, items: { productId: string; quantity: number }[], expiresAt: Date): Promise<void>;
  commit(orderId: string): Promise<void>;
  release(orderId: string, reason: string): Promise<void>;
}

export interface OrderIdSource {
  /** A fresh order id in the customer's bucket. */
  next(customerId: string): string;
  /** Whether a string is a well-formed order id. */
  isValid(orderId: string): boolean;
}

export interface Clock {
  now(): Date;
}

/** Wakes the outbox relay after a commit (lower event lag); polling covers the rest. */
export interface OutboxSignal {
  notify(): void;
}

export interface Log {
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}
