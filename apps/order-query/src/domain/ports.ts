import type { AllOrdersFilter, OrderEvent, OrderView } from './model';
import type { ProjectedState, ProjectionDecision } from './projection';

/** Order views and the per-customer listing on the read shards, routed by the order's bucket. */
export interface OrderViewStore {
  /** The read shard that holds the order: the events of one shard can share a projection transaction. */
  shardOf(orderId: string): number;
  /**
   * One transaction for events of one read shard (a single event is a batch of one), in two round
   * trips: locks the view rows of all their orders (one SELECT ... FOR UPDATE, so two consumers never
   * both apply), asks `decide` with what is stored (by order id; orders without a view are absent),
   * then writes the rows of every event decided 'insert' or 'apply', in order, and commits. Resolves to
   * `decide`'s decisions; any failure rolls the whole batch back. A lost insert race or a deadlock runs
   * the transaction again, up to `attempts` runs in all.
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
