/**
 * The step from the outbox to the event stream: every order write stores its event in its shard's
 * outbox in the same transaction (OrderRepository); the relay (entry-points/outbox.relay.ts) moves the
 * events from there to the stream through these two ports.
 */

/** An event waiting in a shard's outbox. `eventId` is its message id: the stream drops a re-sent copy. */
export interface OutboxEvent {
  /** The row's id in its shard's outbox (64-bit, as a string). */
  id: string;
  eventId: string;
  subject: string;
  payload: Uint8Array;
  /** W3C trace context of the request that wrote the event, or null. */
  traceparent: string | null;
}

/** What became of a batch's events: the sent ones are marked sent, the failed ones stay for a later batch. */
export interface RelayedBatch {
  sent: OutboxEvent[];
  failed: OutboxEvent[];
}

/** The outbox of every order shard. */
export interface OutboxStore {
  readonly shardCount: number;
  /**
   * One batch of one shard in one transaction: claims up to `limit` unsent events that no other relay
   * holds, hands them to `publish` (not called when there are none), then marks the sent ones sent,
   * counts an attempt on the failed ones and commits. If `publish` throws, nothing is marked.
   */
  relayBatch<R extends RelayedBatch>(shard: number, limit: number, publish: (events: OutboxEvent[]) => Promise<R>): Promise<R | undefined>;
  /** Unsent events over every shard. */
  countUnsent(): Promise<number>;
}

/** The event stream: resolves once the broker has stored the event (or dropped it as a copy). */
export interface EventPublisher {
  publish(event: OutboxEvent): Promise<void>;
}
