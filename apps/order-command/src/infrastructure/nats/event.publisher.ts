import type { EventPublisher as JetStream } from '@orderflow/messaging';
import { withProducerSpan } from '@orderflow/telemetry';
import type { EventPublisher, OutboxEvent } from '../../domain/outbox.ports';

/**
 * Publishes outbox events to JetStream with the event id as message id (a re-send is dropped as a copy),
 * each in a span that continues the trace of the request that wrote it.
 */
export class JetStreamEventPublisher implements EventPublisher {
  constructor(
    /** The JetStream publisher, or undefined while NATS is not connected yet. */
    private readonly jetStream: () => JetStream | undefined,
    /** Called on each ack (the published-events counter). */
    private readonly onPublished: () => void = () => undefined,
  ) {}

  async publish(event: OutboxEvent): Promise<void> {
    const attributes = {
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.destination.name': event.subject,
      'messaging.message.id': event.eventId,
    };
    await withProducerSpan(`publish ${event.subject}`, event.traceparent, attributes, async (headers) => {
      const jetStream = this.jetStream();
      if (!jetStream) throw new Error('NATS is not connected yet');
      await jetStream.publish(event.subject, event.payload, event.eventId, headers);
      this.onPublished();
    });
  }
}
