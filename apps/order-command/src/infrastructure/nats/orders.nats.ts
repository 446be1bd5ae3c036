import { connectNats, ensureStream, JetStreamPublisher, ordersStream } from '@orderflow/messaging';
import type { Component } from '@orderflow/service-kit';
import type { NatsConnection } from 'nats';
import { outboxWakeSubject, OutboxWakePublisher, subscribeOutboxWake } from './outbox-wake';

export interface OrdersNatsSettings {
  servers: string;
  stream: string;
  subjectPrefix: string;
  duplicateWindowMs: number;
  maxAgeMs: number;
  maxBytes: number;
  replicas: number;
}

/**
 * order-command's NATS connection: at start it connects, makes sure the ORDERS stream is as configured
 * and opens the JetStream publisher; at stop it drains. Outbox wake-ups (see outbox-wake.ts) travel on it.
 */
export class OrdersNats implements Component {
  readonly name = 'nats';
  private connection?: NatsConnection;
  private publisher?: JetStreamPublisher;
  private readonly wakeSubject: string;
  private readonly wakeListeners: (() => void)[] = [];
  /** Wakes the outbox relays of other processes; sends nothing before start(). */
  readonly wakePublisher: OutboxWakePublisher;

  constructor(private readonly settings: OrdersNatsSettings) {
    this.wakeSubject = outboxWakeSubject(settings.stream);
    this.wakePublisher = new OutboxWakePublisher(() => this.connection, this.wakeSubject);
  }

  /** The JetStream publisher, once connected. */
  get jetStream(): JetStreamPublisher | undefined {
    return this.publisher;
  }

  /** Calls `listener` on every outbox wake-up from another process (subscribed at start). */
  onOutboxWake(listener: () => void): void {
    this.wakeListeners.push(listener);
  }

  async start(): Promise<void> {
    const { servers, stream, subjectPrefix, duplicateWindowMs, maxAgeMs, maxBytes, replicas } = this.settings;
    const nc = await connectNats({ servers, name: 'order-command' });
    this.connection = nc;
    await ensureStream(nc, ordersStream({ name: stream, prefix: subjectPrefix, duplicateWindowMs, maxAgeMs, maxBytes, replicas }));
    this.publisher = new JetStreamPublisher(nc, { expectedStream: stream });
    for (const listener of this.wakeListeners) subscribeOutboxWake(nc, this.wakeSubject, listener);
  }

  async stop(): Promise<void> {
    await this.connection?.drain();
  }
}
