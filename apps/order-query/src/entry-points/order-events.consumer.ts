import type { Component, Logger } from '@orderflow/service-kit';
import { SpanScope, withConsumerSpan } from '@orderflow/telemetry';
import type { Consumer, ConsumerMessages, JsMsg } from 'nats';
import { InvalidEventError } from '../domain/errors';
import type { UncheckedOrderEvent } from '../domain/model';
import type { ProjectOrderEvent } from '../domain/project-order-event.use-case';
import { ProjectionStats, redeliveryDelay } from '../domain/projection';
import type { DeadLetter } from '../infrastructure/dead-letter.publisher';
import { decodeOrderEvent } from '../infrastructure/order-event.codec';

export interface OrderEventsConsumerOptions {
  /** The durable pull consumer (created at start by the NATS component). */
  openConsumer: () => Promise<Consumer>;
  project: ProjectOrderEvent;
  deadLetters: { publish(letter: DeadLetter): Promise<void> };
  stats: ProjectionStats;
  logger: Logger;
  /** The consumer's max_deliver: the delivery with this count is the last one JetStream makes. */
  maxDeliver: number;
  redeliveryDelayMs: number;
  redeliveryDelayMaxMs: number;
  /** Events processed at once. */
  concurrency: number;
  /** Messages asked for per pull. */
  batchSize: number;
}

type Decoded = { event: UncheckedOrderEvent; error?: undefined } | { event?: undefined; error: InvalidEventError };

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Projects the ORDERS stream. Up to `concurrency` events at once; events of one order one after
 * another, in arrival order (the version rule would sort them out anyway, at the price of a NAK).
 *
 * Per event: applied, or already applied -> ack. An earlier version missing -> NAK with a growing
 * delay, so it comes back after its predecessor. A poison message (undecodable, or breaking the event
 * contract) -> published to the dead-letter subject, counted, then terminated. Any other failure
 * (a shard down) -> NAK with the growing delay; on the last delivery JetStream will make, the event is
 * dead-lettered too, so it is kept rather than silently dropped.
 */
export class OrderEventsConsumer implements Component {
  readonly name = 'order-events-consumer';
  private running = false;
  private loop?: Promise<void>;
  private messages?: ConsumerMessages;
  private wake?: () => void;
  private readonly tasks = new Set<Promise<void>>();
  /** The last task of each order in flight; the next event of that order runs after it. */
  private readonly chains = new Map<string, Promise<void>>();
  private inFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];

  constructor(private readonly options: OrderEventsConsumerOptions) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops pulling; events already handed out are finished, buffered ones are NAKed for another process. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    await Promise.all(this.tasks);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const consumer = await this.options.openConsumer();
        const messages = await consumer.consume({ max_messages: this.options.batchSize });
        this.messages = messages;
        if (!this.running) await messages.close();
        for await (const msg of messages) {
          if (!this.running) {
            msg.nak();
            continue;
          }
          failures = 0;
          await this.acquireSlot();
          this.dispatch(msg);
        }
      } catch (error) {
        failures++;
        this.options.logger.warn({ err: error, failures }, 'order event consumer stopped; consuming again');
      }
      if (this.running) await this.pause(Math.min(5_000, 100 * 2 ** failures));
    }
  }

  private dispatch(msg: JsMsg): void {
    let decoded: Decoded;
    try {
      decoded = { event: decodeOrderEvent(msg.data) };
    } catch (error) {
      decoded = { error: error instanceof InvalidEventError ? error : new InvalidEventError(messageOf(error)) };
    }
    const key = decoded.event ? `order:${decoded.event.orderId}` : `seq:${msg.seq}`;
    const task = (this.chains.get(key) ?? Promise.resolve())
      .then(() => this.handle(msg, decoded))
      // ack/nak throw when the connection is gone; the message is then redelivered after ack_wait.
      .catch((error: unknown) => this.options.logger.error({ err: error, subject: msg.subject, seq: msg.seq }, 'could not settle an event'));
    this.chains.set(key, task);
    this.tasks.add(task);
    void task.finally(() => {
      this.tasks.delete(task);
      if (this.chains.get(key) === task) this.chains.delete(key);
      this.releaseSlot();
    });
  }

  /** In a span that continues the trace the outbox relay put in the message's headers. */
  private handle(msg: JsMsg, decoded: Decoded): Promise<void> {
    const attributes = {
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.destination.name': msg.subject,
      'messaging.message.id': msg.headers?.get('Nats-Msg-Id') ?? '',
      'messaging.nats.delivery_count': msg.info.deliveryCount,
    };
    return withConsumerSpan(`process ${msg.subject}`, msg.headers, attributes, (span) => this.settle(msg, decoded, span));
  }

  /** Every outcome ends in ack, nak or term. */
  private async settle(msg: JsMsg, decoded: Decoded, span: SpanScope): Promise<void> {
    const deliveries = msg.info.deliveryCount;
    const lastDelivery = deliveries >= this.options.maxDeliver;
    const retryIn = redeliveryDelay(deliveries, this.options.redeliveryDelayMs, this.options.redeliveryDelayMaxMs);
    try {
      if (decoded.error) return await this.deadLetter(msg, decoded.error.message, retryIn);
      const event = decoded.event;
      const decision = await this.options.project(event);
      span.setAttribute('orderflow.projection.decision', decision);
      if (decision !== 'out-of-order') return msg.ack();
      if (lastDelivery) {
        return await this.deadLetter(msg, `version ${event.version} of order ${event.orderId} never became the next version in ${deliveries} deliveries`, retryIn);
      }
      msg.nak(retryIn);
    } catch (error) {
      if (error instanceof InvalidEventError) return await this.deadLetter(msg, error.message, retryIn);
      if (lastDelivery) return await this.deadLetter(msg, `failed on all ${deliveries} deliveries, last: ${messageOf(error)}`, retryIn);
      span.setAttribute('orderflow.projection.error', messageOf(error));
      this.options.logger.warn({ err: error, subject: msg.subject, seq: msg.seq, deliveries, retryInMs: retryIn }, 'event not projected; redelivery asked');
      msg.nak(retryIn);
    }
  }

  private async deadLetter(msg: JsMsg, error: string, retryIn: number): Promise<void> {
    const letter = { data: msg.data, headers: msg.headers, subject: msg.subject, stream: msg.info.stream, streamSequence: msg.seq, deliveries: msg.info.deliveryCount, error };
    try {
      await this.options.deadLetters.publish(letter);
    } catch (publishError) {
      // Not stored anywhere else yet: keep the original (it also stays in the ORDERS stream).
      this.options.logger.error({ err: publishError, subject: msg.subject, seq: msg.seq, error }, 'could not dead-letter an event; redelivery asked');
      msg.nak(retryIn);
      return;
    }
    this.options.stats.recordDeadLettered();
    this.options.logger.warn({ subject: msg.subject, seq: msg.seq, deliveries: letter.deliveries, error }, 'event dead-lettered');
    msg.term();
  }

  private async acquireSlot(): Promise<void> {
    while (this.inFlight >= this.options.concurrency) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.inFlight++;
  }

  private releaseSlot(): void {
    this.inFlight--;
    this.slotWaiters.shift()?.();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
