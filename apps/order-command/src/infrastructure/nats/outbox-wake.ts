import type { NatsConnection, Subscription } from 'nats';

/**
 * Wakes outbox relays in other processes: a process that writes orders but runs no relay publishes a
 * bodiless NATS core message after its commits; relay processes subscribe and relay at once instead of
 * at their next poll. At most one message per event-loop turn, however many orders committed in it. A
 * lost wake-up costs latency only: the relays poll anyway.
 */
export const outboxWakeSubject = (stream: string) => `orderflow.outbox-wake.${stream}`;

export class OutboxWakePublisher {
  private scheduled = false;

  constructor(
    private readonly connection: () => NatsConnection | undefined,
    private readonly subject: string,
  ) {}

  notify(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const nc = this.connection();
      if (nc && !nc.isClosed()) nc.publish(this.subject);
    });
  }
}

export function subscribeOutboxWake(nc: NatsConnection, subject: string, onWake: () => void): Subscription {
  return nc.subscribe(subject, { callback: (error) => (error ? undefined : onWake()) });
}
