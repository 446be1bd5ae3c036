import type { Component, Logger } from '@orderflow/service-kit';
import { SpanScope, withConsumerSpan } from '@orderflow/telemetry';
import type { Consumer, JsMsg } from 'nats';
import { InvalidEventError } from '../domain/errors';
import type { UncheckedOrderEvent } from '../domain/model';
import type { ProjectionResult, ProjectOrderEvents } from '../domain/project-order-events.use-case';
import { ProjectionStats, redeliveryDelay } from '../domain/projection';
import type { DeadLetter } from '../infrastructure/nats/dead-letter.publisher';
import { decodeOrderEvent } from '../infrastructure/nats/order-event.codec';
import { ReadyGroups } from './ready-groups';

export interface OrderEventsConsumerOptions {
  /** The durable pull consumer (created at start by the NATS component). */
  openConsumer: () => Promise<Consumer>;
  project: ProjectOrderEvents;
  deadLetters: { publish(letter: DeadLetter): Promise<void> };
  stats: ProjectionStats;
  logger: Logger;
  /** The consumer's max_deliver: the delivery with this count is the last one JetStream makes. */
  maxDeliver: number;
  redeliveryDelayMs: number;
  redeliveryDelayMaxMs: number;
  /** Groups of events processed at once. */
  concurrency: number;
  /** Messages asked for per pull. */
  batchSize: number;
  /** How long one pull stays open at the server (at least 1000 ms); also the longest stop() waits for it. */
  pullExpiresMs: number;
  /** Most messages in one group: those already buffered when a group starts, up to this many. */
  groupMax: number;
}

type Delivery = { msg: JsMsg; event: UncheckedOrderEvent; invalid?: undefined } | { msg: JsMsg; event?: undefined; invalid: InvalidEventError };

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function decode(msg: JsMsg): Delivery {
  try {
    return { msg, event: decodeOrderEvent(msg.data) };
  } catch (error) {
    return { msg, invalid: error instanceof InvalidEventError ? error : new InvalidEventError(messageOf(error)) };
  }
}

/**
 * Pulls the ORDERS stream one bounded pull at a time (up to `batchSize` messages, open at most
 * `pullExpiresMs`), each read to its end: the server has then let go of it. A pull left open when its
 * subscriber goes away is not safe on nats-server 2.9: it can still hand that pull the next events,
 * which nobody reads and which then wait out ack_wait (30 s). So stop() never cuts a pull short; it
 * stops asking for more and projects what the open pull still brings.
 *
 * Projects in groups: the messages already buffered when a group starts (up to
 * `groupMax`; one if only one is there) are projected together, one transaction per read shard, and
 * each message is then settled alone. Up to `concurrency` groups at once; events of one order one
 * after another, in arrival order (the version rule would sort them out anyway, at the price of a NAK).
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
  private wake?: () => void;
  private readonly tasks = new Set<Promise<void>>();
  /** The last group in flight of each order; a later group holding that order runs after it. */
  private readonly chains = new Map<string, Promise<void>>();
  private inFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];

  constructor(private readonly options: OrderEventsConsumerOptions) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Stops pulling: the open pull runs to its end (at most `pullExpiresMs`), and every event it brought is
   * projected and settled before this resolves. Nothing is left at the server waiting out ack_wait.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loop;
    await Promise.all(this.tasks);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const consumer = await this.options.openConsumer();
        while (this.running) {
          const messages = await consumer.fetch({ max_messages: this.options.batchSize, expires: this.options.pullExpiresMs });
          // Read to the end even when stopped meanwhile: the end is the server's word that the pull is over.
          const groups = new ReadyGroups(messages[Symbol.asyncIterator](), this.options.groupMax);
          for (;;) {
            // A slot first, then the group: while every slot is busy, messages gather and the next group is larger.
            await this.acquireSlot();
            let dispatched = false;
            try {
              const group = await groups.next();
              if (!group) break;
              failures = 0;
              this.dispatch(group.map(decode));
              dispatched = true;
            } finally {
              if (!dispatched) this.releaseSlot();
            }
          }
        }
      } catch (error) {
        failures++;
        this.options.logger.warn({ err: error, failures }, 'order event consumer stopped; consuming again');
      }
      if (this.running) await this.pause(Math.min(5_000, 100 * 2 ** failures));
    }
  }

  /**
   * Per-order ordering across groups: a group starts once every group in flight that holds one of its
   * orders has finished. Waits only point to earlier groups, so they never form a circle, and groups
   * without a shared order still run side by side.
   */
  private dispatch(group: Delivery[]): void {
    const orders = [...new Set(group.flatMap((d) => (d.event ? [d.event.orderId] : [])))];
    const before = orders.flatMap((orderId) => this.chains.get(orderId) ?? []);
    const task = Promise.all(before)
      .then(() => this.handleGroup(group))
      .catch((error: unknown) => this.options.logger.error({ err: error, events: group.length }, 'could not settle a group of events'));
    for (const orderId of orders) this.chains.set(orderId, task);
    this.tasks.add(task);
    void task.finally(() => {
      this.tasks.delete(task);
      for (const orderId of orders) if (this.chains.get(orderId) === task) this.chains.delete(orderId);
      this.releaseSlot();
    });
  }

  /** One projection for the group's events; then each message is settled on its own, in its own span. */
  private async handleGroup(group: Delivery[]): Promise<void> {
    const projectable = group.filter((d) => d.event !== undefined);
    const events = projectable.map((d) => d.event as UncheckedOrderEvent);
    // The use case resolves per event and does not reject; were it to, every event is retried.
    const projected = this.options.project(events).catch((error: unknown) => events.map((): ProjectionResult => ({ error })));
    const results = new Map<Delivery, Promise<ProjectionResult>>(projectable.map((d, i) => [d, projected.then((all) => all[i]!)]));
    await Promise.all(
      group.map((d) =>
        this.handle(d, results.get(d) ?? Promise.resolve({ error: d.invalid }))
          // ack/nak throw when the connection is gone; the message is then redelivered after ack_wait.
          .catch((error: unknown) => this.options.logger.error({ err: error, subject: d.msg.subject, seq: d.msg.seq }, 'could not settle an event')),
      ),
    );
  }

  /** In a span that continues the trace the outbox relay put in the message's headers. */
  private handle(delivery: Delivery, result: Promise<ProjectionResult>): Promise<void> {
    const { msg } = delivery;
    const attributes = {
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.destination.name': msg.subject,
      'messaging.message.id': msg.headers?.get('Nats-Msg-Id') ?? '',
      'messaging.nats.delivery_count': msg.info.deliveryCount,
    };
    return withConsumerSpan(`process ${msg.subject}`, msg.headers, attributes, (span) => this.settle(delivery, result, span));
  }

  /** Every outcome ends in ack, nak or term. */
  private async settle({ msg, event }: Delivery, result: Promise<ProjectionResult>, span: SpanScope): Promise<void> {
    const deliveries = msg.info.deliveryCount;
    const lastDelivery = deliveries >= this.options.maxDeliver;
    const retryIn = redeliveryDelay(deliveries, this.options.redeliveryDelayMs, this.options.redeliveryDelayMaxMs);
    try {
      const { decision, error } = await result;
      if (!decision) throw error;
      span.setAttribute('orderflow.projection.decision', decision);
      if (decision !== 'out-of-order') return msg.ack();
      if (lastDelivery) {
        return await this.deadLetter(msg, `version ${event?.version} of order ${event?.orderId} never became the next version in ${deliveries} deliveries`, retryIn);
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
