import { connectNats, ensureStream, orderEventSubjects, ordersStream } from '@orderflow/messaging';
import type { Component, Logger } from '@orderflow/service-kit';
import { AckPolicy, Consumer, ConsumerConfig, DeliverPolicy, JetStreamClient, JetStreamManager, nanos, NatsConnection, NatsError } from 'nats';

export interface OrderStreamSettings {
  servers: string;
  stream: string;
  subjectPrefix: string;
  duplicateWindowMs: number;
  /** Bounds of the ORDERS stream (0 / -1: none); the same as order-command's. */
  maxAgeMs?: number;
  maxBytes?: number;
  /** Copies of the stream in a NATS cluster. */
  replicas?: number;
  consumer: string;
  deadLetterSubject: string;
  deadLetterStream: string;
  maxDeliver: number;
  ackWaitMs: number;
}

/** Dead letters are kept a month: long enough to look at them and replay the ones worth replaying. */
const DEAD_LETTER_MAX_AGE_MS = 30 * 24 * 3600_000;
const DEAD_LETTER_DUPLICATE_WINDOW_MS = 10 * 60_000;

/** The durable pull consumer every order-query process shares: explicit acks, bounded redelivery, from the start. */
export function durableConsumerConfig(
  settings: Pick<OrderStreamSettings, 'consumer' | 'subjectPrefix' | 'ackWaitMs' | 'maxDeliver'>,
): Partial<ConsumerConfig> & {
  durable_name: string;
} {
  return {
    durable_name: settings.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(settings.ackWaitMs),
    max_deliver: settings.maxDeliver,
    filter_subject: orderEventSubjects(settings.subjectPrefix),
  };
}

function isConsumerNotFound(error: unknown): boolean {
  // JSConsumerNotFoundErr is 10014.
  return error instanceof NatsError && (error.api_error?.err_code === 10014 || error.message === 'consumer not found');
}

/** Creates the durable consumer, or brings an existing one to these settings. Safe to race with another process. */
export async function ensureDurableConsumer(
  jsm: JetStreamManager,
  stream: string,
  wanted: ReturnType<typeof durableConsumerConfig>,
): Promise<{ action: 'created' | 'updated' | 'unchanged'; changes: string[] }> {
  let current: ConsumerConfig;
  try {
    current = (await jsm.consumers.info(stream, wanted.durable_name)).config;
  } catch (error) {
    if (!isConsumerNotFound(error)) throw error;
    try {
      await jsm.consumers.add(stream, wanted);
      return { action: 'created', changes: [] };
    } catch (addError) {
      current = (await jsm.consumers.info(stream, wanted.durable_name).catch(() => Promise.reject(addError))).config;
    }
  }
  for (const fixed of ['ack_policy', 'deliver_policy'] as const) {
    if (current[fixed] !== wanted[fixed]) {
      throw new Error(`consumer ${wanted.durable_name} has ${fixed} "${current[fixed]}", wanted "${wanted[fixed]}": delete it to change that`);
    }
  }
  const changes = (['ack_wait', 'max_deliver', 'filter_subject'] as const).filter((key) => current[key] !== wanted[key]);
  if (changes.length === 0) return { action: 'unchanged', changes };
  await jsm.consumers.update(stream, wanted.durable_name, {
    ack_wait: wanted.ack_wait,
    max_deliver: wanted.max_deliver,
    filter_subject: wanted.filter_subject,
  });
  return { action: 'updated', changes };
}

/**
 * The NATS side of order-query at start: connects, makes sure the ORDERS stream exists (whichever of
 * order-command and order-query starts first creates it), the dead-letter stream that keeps poison
 * messages, and the durable consumer. Drains the connection (flushing pending acks) at stop.
 */
export class OrderStreamConnection implements Component {
  readonly name = 'nats';
  private nc?: NatsConnection;
  private jsm?: JetStreamManager;

  constructor(
    private readonly settings: OrderStreamSettings,
    private readonly logger: Logger,
  ) {}

  get connection(): NatsConnection {
    if (!this.nc) throw new Error('NATS is not connected yet');
    return this.nc;
  }

  get manager(): JetStreamManager {
    if (!this.jsm) throw new Error('NATS is not connected yet');
    return this.jsm;
  }

  get jetStream(): JetStreamClient {
    return this.connection.jetstream();
  }

  /** The durable pull consumer made at start. */
  openConsumer(): Promise<Consumer> {
    return this.jetStream.consumers.get(this.settings.stream, this.settings.consumer);
  }

  async start(): Promise<void> {
    const s = this.settings;
    const nc = await connectNats({ servers: s.servers, name: 'order-query' });
    try {
      await ensureStream(
        nc,
        ordersStream({
          name: s.stream,
          prefix: s.subjectPrefix,
          duplicateWindowMs: s.duplicateWindowMs,
          maxAgeMs: s.maxAgeMs,
          maxBytes: s.maxBytes,
          replicas: s.replicas,
        }),
      );
      await ensureStream(nc, {
        name: s.deadLetterStream,
        subjects: [s.deadLetterSubject],
        duplicateWindowMs: DEAD_LETTER_DUPLICATE_WINDOW_MS,
        maxAgeMs: DEAD_LETTER_MAX_AGE_MS,
      });
      const jsm = await nc.jetstreamManager();
      const consumer = await ensureDurableConsumer(jsm, s.stream, durableConsumerConfig(s));
      if (consumer.action !== 'unchanged') this.logger.info({ consumer: s.consumer, ...consumer }, 'durable consumer ready');
      this.nc = nc;
      this.jsm = jsm;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.nc?.drain();
    this.nc = undefined;
    this.jsm = undefined;
  }
}
