import type { OrderError } from './errors';
import type { Order, OrderEventRecord, OrderHistoryEntry, OrderItem, OrderStatus, StockAction } from './model';
import type { TransitionSpec } from './order-state-machine';

/** The answer stored under an idempotency key: the order as first returned, or the error. */
export type StoredOutcome = { kind: 'order'; order: Order } | { kind: 'error'; error: OrderError };

export interface IdempotencyRecord {
  fingerprint: string;
  orderId: string;
  state: 'IN_FLIGHT' | 'DONE';
  outcome?: StoredOutcome;
  /** The instance id of the process that made the claim (ADR 0006); undefined: unknown, never taken over. */
  owner?: string;
}

export type ClaimResult = { kind: 'claimed' } | { kind: 'duplicate-id' } | { kind: 'existing-key'; record: IdempotencyRecord };

/** What storing an order together with its idempotency key's answer did: stored both, or neither (and why). */
export type KeyedInsertResult = { kind: 'stored' } | { kind: 'duplicate-id' } | { kind: 'existing-key'; record: IdempotencyRecord };

/** Orders on their shards. Every write is one transaction on the order's shard. */
export interface OrderRepository {
  /**
   * A keyed placement's first write: the key as IN_FLIGHT and the order as PENDING (claiming its id).
   * `owner` (this process's instance id, when it can prove it is alive) is recorded on the key.
   */
  claim(order: Order, idempotency: { key: string; fingerprint: string; owner?: string }): Promise<ClaimResult>;
  /**
   * Stores an order placed without a key (stock already reserved): the order as RESERVED, its items,
   * history and outbox event, in one transaction. False if the id is taken on its shard.
   */
  insertPlaced(event: OrderEventRecord): Promise<boolean>;
  /**
   * Stores an order placed under the gateway's own key (stock already reserved) as insertPlaced does, and in
   * the same transaction the key as DONE with the order as its stored answer (the row a claim's completion
   * leaves). Nothing is stored when the key exists already (existing-key, as it is) or the id is taken.
   */
  insertPlacedWithKey(event: OrderEventRecord, idempotency: { key: string; fingerprint: string }): Promise<KeyedInsertResult>;
  /** PENDING -> RESERVED with items, history, outbox event and the key's stored answer. False if no longer PENDING. */
  completePlacement(event: OrderEventRecord, idempotencyKey?: string): Promise<boolean>;
  /**
   * PENDING -> FAILED. With an outcome the key keeps it (a deterministic refusal is the answer);
   * without, the key is deleted so a retry starts afresh. `owesRelease` records a Release for the settler.
   */
  failPlacement(orderId: string, customerId: string, options: { idempotencyKey?: string; outcome?: StoredOutcome; owesRelease: boolean }): Promise<boolean>;
  /**
   * Undoes a claim whose placement held nothing (inventory refused it at once): deletes the PENDING
   * order and its IN_FLIGHT key, so nothing of the attempt stays and a retry starts afresh.
   */
  withdrawClaim(orderId: string, customerId: string, idempotencyKey: string): Promise<void>;
  findIdempotency(customerId: string, key: string): Promise<IdempotencyRecord | undefined>;
  get(orderId: string): Promise<Order | undefined>;
  /** The order's history rows, oldest first (by version); empty for an unknown order. */
  history(orderId: string): Promise<OrderHistoryEntry[]>;
  /** The guarded UPDATE plus history and outbox; undefined when the order was not in a `from` state. */
  transition(orderId: string, spec: TransitionSpec, event: (order: Order) => OrderEventRecord, now: Date): Promise<Order | undefined>;
  markStockSettled(orderId: string): Promise<void>;
  /** Across every shard. */
  findExpired(now: Date, limit: number): Promise<string[]>;
  findStalePending(createdBefore: Date, limit: number): Promise<{ orderId: string; customerId: string }[]>;
  findUnsettled(changedBefore: Date, limit: number): Promise<{ orderId: string; action: StockAction; status: OrderStatus }[]>;
}

/**
 * The processes that own keyed placements' claims, and whether they still live (ADR 0006). Each process
 * has an instance id; while it runs, the database of each order shard can tell that it is alive.
 */
export interface ClaimOwners {
  /** This process's instance id, to record on a new claim of this customer's shard; undefined while it cannot prove it is alive there. */
  self(customerId: string): string | undefined;
  /** True when the process `owner` names is known to be gone (on this customer's shard); false when it lives or nobody can tell. */
  isGone(customerId: string, owner: string): Promise<boolean>;
}

/** Inventory as order-command needs it; errors are domain errors (InsufficientStockError, ...). */
export interface InventoryPort {
  /**
   * Holds stock for every item at its unit price, or for none: UnknownProductError, PriceChangedError,
   * InsufficientStockError (in that order of precedence), OrderIdTakenError when another placement
   * holds this order id. `placementId` names this attempt: a retry with it is idempotent.
   */
  reserve(orderId: string, items: OrderItem[], expiresAt: Date, placementId: string): Promise<void>;
  /**
   * Pins the order's reservation before its payment is recorded: inventory's sweeper no longer releases
   * it, only commit or release end it. ReservationReleasedError when the stock is no longer held.
   */
  prepareCommit(orderId: string): Promise<void>;
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

/** Inner waits end before the deadline of the call being served (its caller's), with room to answer. */
export interface WaitBudget {
  /** `ms`, or less when the caller's deadline is nearer. */
  cap(ms: number): number;
}

/** Wakes the outbox relay after a commit (lower event lag); polling covers the rest. */
export interface OutboxSignal {
  notify(): void;
}

/** What the order use cases share (place, and the lifecycle after it). */
export interface OrderUseCaseDeps {
  repository: OrderRepository;
  inventory: InventoryPort;
  ids: OrderIdSource;
  clock: Clock;
  outbox: OutboxSignal;
  log: Log;
}

export interface Log {
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}

/** One bounded delete: how many rows it removed, and whether a shard may have more (it filled a batch). */
export interface PurgeBatch {
  deleted: number;
  more: boolean;
}

/** Rows nobody needs after a while, deleted a bounded batch at a time (at most `limit` rows per shard). */
export interface RetentionStore {
  /** DONE idempotency keys created before `before`; IN_FLIGHT keys are never touched. */
  purgeIdempotencyKeys(before: Date, limit: number): Promise<PurgeBatch>;
  /** Outbox rows published before `before`; unsent rows are never touched. */
  purgeSentOutbox(before: Date, limit: number): Promise<PurgeBatch>;
}
