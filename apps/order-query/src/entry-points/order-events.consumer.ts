import type { Component, Logger } from '@orderflow/service-kit';
import { SpanScope, withConsumerSpan } from '@orderflow/telemetry';
import type { Consumer, JsMsg } from 'nats';
import { InvalidEventError } from '../domain/errors';
import type { AppliedTiming, UncheckedOrderEvent } from '../domain/model';
import type { DeadLetters } from '../domain/ports';
import type { ProjectOrderEvents } from '../domain/project-order-events.use-case';
import { changesView, type ProjectionStats } from '../domain/projection';
import { ApplyOutcome, settle, Settlement, SettlementPolicy } from '../domain/settlement';
import { OrderedDispatcher } from './ordered-dispatcher';
import { ReadyGroups } from './ready-groups';

export interface OrderEventsConsumerOptions {
  /** The durable pull consumer (created at start by the NATS component). */
  openConsumer: () => Promise<Consumer>;
  /** Message bytes -> an event to validate; throws InvalidEventError for bytes that are no event. */
  decode: (data: Uint8Array) => UncheckedOrderEvent;
  project: ProjectOrderEvents;
  deadLetters: DeadLetters;
  stats: ProjectionStats;
  logger: Logger;
  /** max_deliver and the NAK delays. */
  settlement: SettlementPolicy;
  /** Groups of events processed at once. */
  concurrency: number;
  /** Messages asked for per pull. */
  batchSize: number;
  /** How long one pull stays open at the server (at least 1000 ms); also the longest stop() waits for it. */
  pullExpiresMs: number;
  /** Most messages in one group: those already buffered when a group starts, up to this many. */
  groupMax: number;
  /** Told of each event applied and acked, with when it happened, when the stream stored it, and now (the delay metrics). */
  onApplied?: (timing: AppliedTiming) => void;
}

type Received = { msg: JsMsg; event: UncheckedOrderEvent; invalid?: undefined } | { msg: JsMsg; event?: undefined; invalid: InvalidEventError };

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The entry point of the ORDERS stream: pulls, hands groups of events to the projection through an
 * ordered dispatcher, and settles each message as the settlement decision (src/domain/settlement.ts) says.
 *
 * Pulls one bounded pull at a time (up to `batchSize` messages, open at most `pullExpiresMs`), each read
 * to its end: the server has then let go of it. A pull left open when its subscriber goes away is not
 * safe on nats-server 2.9: it can still hand that pull the next events, which nobody reads and which then
 * wait out ack_wait (30 s). So stop() never cuts a pull short; it stops asking for more and projects what
 * the open pull still brings.
 *
 * The messages already buffered when a group starts (up to `groupMax`; one if only one is there) are
 * projected together, one transaction per read shard, and each message is then settled alone. Up to
 * `concurrency` groups at once; events of one order one after another, in arrival order (the version
 * rule would sort them out anyway, at the price of a NAK).
 */
export class OrderEventsConsumer implements Component {
  readonly name = 'order-events-consumer';
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly dispatcher: OrderedDispatcher;

  constructor(private readonly options: OrderEventsConsumerOptions) {
    this.dispatcher = new OrderedDispatcher(options.concurrency, (error) => options.logger.error({ err: error }, 'could not settle a group of events'));
  }

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
    await this.dispatcher.drain();
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
            await this.dispatcher.acquire();
            let dispatched = false;
            try {
              const group = await groups.next();
              if (!group) break;
              failures = 0;
              const received = group.map((msg) => this.receive(msg));
              this.dispatcher.dispatch(
                received.flatMap((r) => (r.event ? [r.event.orderId] : [])),
                () => this.handleGroup(received),
              );
              dispatched = true;
            } finally {
              if (!dispatched) this.dispatcher.release();
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

  private receive(msg: JsMsg): Received {
    try {
      return { msg, event: this.options.decode(msg.data) };
    } catch (error) {
      return { msg, invalid: error instanceof InvalidEventError ? error : new InvalidEventError(messageOf(error)) };
    }
  }

  /** One projection for the group's events; then each message is settled on its own, in its own span. */
  private async handleGroup(group: Received[]): Promise<void> {
    const projectable = group.filter((r) => r.event !== undefined);
    const events = projectable.map((r) => r.event as UncheckedOrderEvent);
    // The use case resolves per event and does not reject; were it to, every event is retried.
    const projected = this.options.project(events).catch((error: unknown) => events.map((): ApplyOutcome => ({ error })));
    const outcomes = new Map<Received, Promise<ApplyOutcome>>(projectable.map((r, i) => [r, projected.then((all) => all[i]!)]));
    await Promise.all(
      group.map((r) =>
        this.handle(r, outcomes.get(r) ?? Promise.resolve({ error: r.invalid }))
          // ack/nak throw when the connection is gone; the message is then redelivered after ack_wait.
          .catch((error: unknown) => this.options.logger.error({ err: error, subject: r.msg.subject, seq: r.msg.seq }, 'could not settle an event')),
      ),
    );
  }

  /** In a span that continues the trace the outbox relay put in the message's headers. */
  private handle(received: Received, outcome: Promise<ApplyOutcome>): Promise<void> {
    const { msg } = received;
    const attributes = {
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.destination.name': msg.subject,
      'messaging.message.id': msg.headers?.get('Nats-Msg-Id') ?? '',
      'messaging.nats.delivery_count': msg.info.deliveryCount,
    };
    return withConsumerSpan(`process ${msg.subject}`, msg.headers, attributes, async (span) => {
      const applied = await outcome;
      const settlement = settle(applied, { count: msg.info.deliveryCount, event: received.event }, this.options.settlement);
      return this.settleAs(settlement, received, applied, span);
    });
  }

  /** Every settlement ends in ack, nak or term. */
  private async settleAs(settlement: Settlement, received: Received, { decision, error }: ApplyOutcome, span: SpanScope): Promise<void> {
    const { msg } = received;
    if (decision) span.setAttribute('orderflow.projection.decision', decision);
    if (settlement.action === 'ack') {
      msg.ack();
      const occurredAt = received.event?.occurredAt;
      if (this.options.onApplied && occurredAt && decision && changesView(decision)) {
        this.options.onApplied({ occurredAt, storedAt: new Date(msg.info.timestampNanos / 1e6), appliedAt: new Date() });
      }
      return;
    }
    if (settlement.action === 'dead-letter') return this.deadLetter(msg, settlement.reason, settlement.delayMs);
    if (settlement.failure !== undefined) {
      span.setAttribute('orderflow.projection.error', settlement.failure);
      const context = { err: error, subject: msg.subject, seq: msg.seq, deliveries: msg.info.deliveryCount, retryInMs: settlement.delayMs };
      // A bucket move's switch is expected to hold an event back for a moment: no cause for alarm.
      if (settlement.moving) this.options.logger.info(context, 'event waits for its read shard to be switched; redelivery asked');
      else this.options.logger.warn(context, 'event not projected; redelivery asked');
    }
    msg.nak(settlement.delayMs);
  }

  private async deadLetter(msg: JsMsg, error: string, retryIn: number): Promise<void> {
    const letter = {
      data: msg.data,
      headers: msg.headers,
      subject: msg.subject,
      stream: msg.info.stream,
      streamSequence: msg.seq,
      deliveries: msg.info.deliveryCount,
      error,
    };
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
