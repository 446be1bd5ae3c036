import { headers as natsHeaders, JetStreamManager, MsgHdrs, MsgRequest, NatsConnection, NatsError, StoredMsg } from 'nats';
import { DEAD_LETTER_HEADERS } from './dead-letter.publisher';
import { decodeOrderEvent } from './order-event.codec';

/** One stored dead letter, as an operator reads it. */
export interface DeadLetterEntry {
  /** Its sequence in the dead-letter stream: the id `replay --id` takes. */
  id: number;
  /** Where the event was published, and so where a replay publishes it again. */
  originalSubject: string;
  originalStream: string;
  originalSequence: number;
  /** What the payload says, when it decodes (garbage has neither). */
  orderId?: string;
  eventType?: string;
  version?: number;
  deliveries: number;
  reason: string;
  /** When it was dead-lettered. */
  at: Date;
}

export interface ReplayResult {
  id: number;
  /** The ORDERS stream sequence the replayed event got. */
  sequence?: number;
  error?: string;
}

const OWN_HEADERS = new Set(Object.values(DEAD_LETTER_HEADERS).map((h) => h.toLowerCase()));

function isNoMessage(error: unknown): boolean {
  // JSNoMessageFoundErr is 10037.
  return error instanceof NatsError && (error.api_error?.err_code === 10037 || /no message found/i.test(error.message));
}

function isStreamNotFound(error: unknown): boolean {
  // JSStreamNotFoundErr is 10059: order-query never started here, so nothing was dead-lettered.
  return error instanceof NatsError && (error.api_error?.err_code === 10059 || error.message === 'stream not found');
}

function entryOf(message: StoredMsg): DeadLetterEntry {
  const h = message.header;
  const originalSubject = h.get(DEAD_LETTER_HEADERS.subject);
  let decoded: { orderId?: string; eventType?: string; version?: number } = {};
  try {
    const event = decodeOrderEvent(message.data);
    decoded = { orderId: event.orderId || undefined, eventType: event.kind, version: event.version || undefined };
  } catch {
    // Undecodable bytes: the subject and the reason still say what it was.
  }
  return {
    id: message.seq,
    originalSubject,
    originalStream: h.get(DEAD_LETTER_HEADERS.stream),
    originalSequence: Number(h.get(DEAD_LETTER_HEADERS.sequence)) || 0,
    ...decoded,
    eventType: decoded.eventType ?? (originalSubject.split('.').pop() || undefined),
    deliveries: Number(h.get(DEAD_LETTER_HEADERS.deliveries)) || 0,
    reason: h.get(DEAD_LETTER_HEADERS.error),
    at: message.time,
  };
}

/** The headers the event had when it was first published: the dead-letter bookkeeping removed. */
function originalHeaders(stored: MsgHdrs): MsgHdrs {
  const h = natsHeaders();
  for (const [key, values] of stored) {
    if (OWN_HEADERS.has(key.toLowerCase()) || key.toLowerCase().startsWith('nats-')) continue;
    for (const value of values) h.append(key, value);
  }
  return h;
}

/**
 * order-query's dead-letter stream as an operator works it: list what is there, and replay an event
 * once its cause is fixed. A replay publishes the original bytes and headers to the original subject,
 * waits for the ORDERS stream's ack, and only then deletes the dead letter: a crash in between leaves
 * it listed, and replaying it again is harmless (the projection applies an order's events by version,
 * and the replay's message id, derived from the dead letter, makes JetStream drop a second copy
 * within its duplicate window).
 */
export class DeadLetterQueue {
  constructor(
    private readonly nc: NatsConnection,
    private readonly settings: { deadLetterStream: string; ordersStream: string },
  ) {}

  private manager(): Promise<JetStreamManager> {
    return this.nc.jetstreamManager();
  }

  /** Every dead letter still stored, oldest first. */
  async list(): Promise<DeadLetterEntry[]> {
    const jsm = await this.manager();
    const entries: DeadLetterEntry[] = [];
    let seq = 1;
    for (;;) {
      let message: StoredMsg;
      try {
        // The next stored message at or after seq, whatever its subject, so deleted ones are skipped
        // (STREAM.MSG.GET takes next_by_subj since nats-server 2.9; nats.js types it for direct gets only).
        const next = { seq, next_by_subj: '>' } as unknown as MsgRequest;
        message = await jsm.streams.getMessage(this.settings.deadLetterStream, next);
      } catch (error) {
        if (isNoMessage(error) || isStreamNotFound(error)) return entries;
        throw error;
      }
      entries.push(entryOf(message));
      seq = message.seq + 1;
    }
  }

  /** Replays the dead letters with these ids (each on its own: one failing does not stop the others). */
  async replay(ids: number[]): Promise<ReplayResult[]> {
    const jsm = await this.manager();
    const js = this.nc.jetstream();
    const results: ReplayResult[] = [];
    for (const id of ids) {
      try {
        const message = await jsm.streams.getMessage(this.settings.deadLetterStream, { seq: id });
        const subject = message.header.get(DEAD_LETTER_HEADERS.subject);
        if (!subject) throw new Error(`dead letter ${id} has no ${DEAD_LETTER_HEADERS.subject} header`);
        const ack = await js.publish(subject, message.data, {
          headers: originalHeaders(message.header),
          msgID: `replay:${this.settings.deadLetterStream}:${id}`,
          expect: { streamName: this.settings.ordersStream },
        });
        await jsm.streams.deleteMessage(this.settings.deadLetterStream, id, false);
        results.push({ id, sequence: ack.seq });
      } catch (error) {
        results.push({ id, error: isNoMessage(error) ? 'no such dead letter' : error instanceof Error ? error.message : String(error) });
      }
    }
    return results;
  }

  /** Replays every dead letter stored now. */
  async replayAll(): Promise<ReplayResult[]> {
    return this.replay((await this.list()).map((entry) => entry.id));
  }
}

/** A plain-text table of dead letters, one line each, for a terminal. */
export function formatDeadLetters(entries: DeadLetterEntry[]): string {
  if (entries.length === 0) return 'no dead letters';
  const rows = [
    ['id', 'order', 'event', 'version', 'deliveries', 'when', 'reason'],
    ...entries.map((e) => [
      String(e.id),
      e.orderId ?? '?',
      e.eventType ?? '?',
      e.version === undefined ? '?' : String(e.version),
      String(e.deliveries),
      e.at.toISOString(),
      e.reason,
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  // The reason, last, is not padded: it may be long.
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n');
}
