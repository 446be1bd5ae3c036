import { headers as natsHeaders, JetStreamClient } from 'nats';
import type { DeadLetter, DeadLetters } from '../../domain/ports';

export const DEAD_LETTER_HEADERS = {
  subject: 'Orderflow-Original-Subject',
  stream: 'Orderflow-Original-Stream',
  sequence: 'Orderflow-Stream-Sequence',
  messageId: 'Orderflow-Original-Msg-Id',
  deliveries: 'Orderflow-Deliveries',
  error: 'Orderflow-Error',
} as const;

// Header values are one line of printable ASCII.
const headerValue = (value: string) => value.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 1024);

/**
 * Publishes a poison message, raw bytes and original headers, with where it came from and why it was
 * refused, to the dead-letter subject. Plain NATS subscribers on that subject see it; the dead-letter
 * stream keeps it. The publish waits for the stream's ack, so a dead letter is stored before the
 * original is terminated; its message id (stream + sequence) keeps a repeated dead-lettering single.
 */
export class DeadLetterPublisher implements DeadLetters {
  constructor(
    private readonly jetStream: () => JetStreamClient,
    private readonly subject: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async publish(letter: DeadLetter): Promise<void> {
    const h = natsHeaders();
    for (const [key, values] of letter.headers ?? []) {
      if (key.toLowerCase() === 'nats-msg-id') h.set(DEAD_LETTER_HEADERS.messageId, headerValue(values[0] ?? ''));
      else if (!key.toLowerCase().startsWith('nats-')) for (const value of values) h.append(key, value);
    }
    h.set(DEAD_LETTER_HEADERS.subject, headerValue(letter.subject));
    h.set(DEAD_LETTER_HEADERS.stream, headerValue(letter.stream));
    h.set(DEAD_LETTER_HEADERS.sequence, String(letter.streamSequence));
    h.set(DEAD_LETTER_HEADERS.deliveries, String(letter.deliveries));
    h.set(DEAD_LETTER_HEADERS.error, headerValue(letter.error));
    await this.jetStream().publish(this.subject, letter.data, { headers: h, msgID: `${letter.stream}:${letter.streamSequence}`, timeout: this.timeoutMs });
  }
}
