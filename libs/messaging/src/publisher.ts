import { headers as natsHeaders, JetStreamClient, JetStreamPublishOptions, NatsConnection } from 'nats';

export interface PublishAck {
  /** JetStream already held a message with this id (within the stream's duplicate window): nothing was stored. */
  duplicate: boolean;
  /** The stream sequence of the stored message (of the first copy, for a duplicate). */
  sequence: number;
}

/**
 * Publishes one event and resolves once the broker has stored it. What the outbox relay depends on.
 * `headers` travel with the message (the W3C `traceparent` of the request that made the event).
 */
export interface EventPublisher {
  publish(subject: string, payload: Uint8Array, messageId: string, headers?: Record<string, string>): Promise<PublishAck>;
}

export interface JetStreamPublisherOptions {
  /** How long to wait for the stream's ack before the publish counts as failed. */
  timeoutMs?: number;
  /** When set, the server refuses a message that would land in another stream (a subject misconfiguration). */
  expectedStream?: string;
}

/** Publishes with Nats-Msg-Id = messageId, so a re-send of the same event is dropped by the stream. */
export class JetStreamPublisher implements EventPublisher {
  private readonly js: JetStreamClient;
  private readonly timeoutMs: number;

  constructor(
    nc: Pick<NatsConnection, 'jetstream'>,
    private readonly options: JetStreamPublisherOptions = {},
  ) {
    this.js = nc.jetstream();
    this.timeoutMs = options.timeoutMs ?? 5_000;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs <= 0) throw new Error('JetStreamPublisher: timeoutMs must be a positive integer');
  }

  async publish(subject: string, payload: Uint8Array, messageId: string, headers: Record<string, string> = {}): Promise<PublishAck> {
    if (messageId === '') throw new Error(`refusing to publish to ${subject} without a message id: it could not be de-duplicated`);
    const options: Partial<JetStreamPublishOptions> = { msgID: messageId, timeout: this.timeoutMs };
    if (this.options.expectedStream) options.expect = { streamName: this.options.expectedStream };
    const entries = Object.entries(headers);
    if (entries.length > 0) {
      options.headers = natsHeaders();
      for (const [name, value] of entries) options.headers.set(name, value);
    }
    const ack = await this.js.publish(subject, payload, options);
    return { duplicate: ack.duplicate, sequence: ack.seq };
  }
}
