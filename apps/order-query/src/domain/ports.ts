import type { AllOrdersFilter, OrderEvent, OrderView } from './model';
import type { ProjectedState, ProjectionDecision } from './projection';

/** Order views and the per-customer listing on the read shards, routed by the order's bucket. */
export interface OrderViewStore {
  /** The read shard that holds the order: the events of one shard can share a projection transaction. */
  shardOf(orderId: string): number;
  /**
   * Projects events of one read shard (a single event is a batch of one): resolves to the decision
   * `decide` gives each event against what is stored (by order id; orders without a view are absent),
   * with the rows of every event decided 'insert' or 'apply' written, in order, and committed. Usually
   * ONE transaction of one round trip: `decide` is first asked with a guess (each order's view just
   * before its first event here) and the writes are guarded, so only true next versions apply; what the
   * guess got wrong is decided again in a transaction that locks the orders' views (SELECT ... FOR
   * UPDATE, two round trips). So `decide` must be pure: it may be asked twice. A failure rejects; what the
   * one-round-trip transaction committed before it stays (right by its guards: projected again, those
   * events are duplicates). A lost insert race or a deadlock runs the locked transaction again, up to
   * `attempts` runs in all.
   */
  project(
    events: OrderEvent[],
    decide: (stored: ReadonlyMap<string, ProjectedState>) => ProjectionDecision[],
    projectedAt: Date,
    attempts: number,
  ): Promise<ProjectionDecision[]>;
  get(orderId: string): Promise<OrderView | undefined>;
  /** The customer's orders, newest (highest id) first, with ids below `beforeOrderId` when given. One shard. */
  listByCustomer(customerId: string, beforeOrderId: string | undefined, limit: number): Promise<OrderView[]>;
}

/** Each read shard on its own, for listings that span customers (the admin listing merges them). */
export interface OrderShardReader {
  /** Every read shard index. */
  readShards(): readonly number[];
  /** The one read shard that holds the customer's orders. */
  shardForCustomer(customerId: string): number;
  /** One shard's orders that match `filter`, newest (highest id) first, ids below `beforeOrderId` when given, at most `limit`. */
  listShard(shard: number, filter: AllOrdersFilter, beforeOrderId: string | undefined, limit: number): Promise<OrderView[]>;
}

/** A message refused for good: its bytes and headers as they came, where it was, and why. */
export interface DeadLetter {
  data: Uint8Array;
  /** The original headers: name, values. */
  headers: Iterable<[string, string[]]> | undefined;
  /** Where the message was: its subject, stream and stream sequence. */
  subject: string;
  stream: string;
  streamSequence: number;
  deliveries: number;
  error: string;
}

/** Where dead letters are stored; resolves once one is stored. */
export interface DeadLetters {
  publish(letter: DeadLetter): Promise<void>;
}

/** How far the durable consumer is behind its stream. */
export interface ConsumerProgress {
  read(): Promise<{ eventsBehind: number; oldestUnappliedAt?: Date }>;
}

export interface Clock {
  now(): Date;
}
