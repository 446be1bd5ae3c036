import type { JetStreamManager } from 'nats';
import { DependencyUnavailableError } from '../../domain/errors';
import type { ConsumerProgress } from '../../domain/ports';

/**
 * The durable consumer's position, from JetStream: unapplied = not yet delivered (num_pending) plus
 * delivered but not acknowledged (num_ack_pending). Everything up to the ack floor is done, so the
 * oldest unapplied event is the stream message just above it; its stored time gives the age.
 */
export class JetStreamConsumerProgress implements ConsumerProgress {
  constructor(
    private readonly manager: () => JetStreamManager,
    private readonly stream: string,
    private readonly consumer: string,
  ) {}

  async read(): Promise<{ eventsBehind: number; oldestUnappliedAt?: Date }> {
    try {
      const jsm = this.manager();
      const info = await jsm.consumers.info(this.stream, this.consumer);
      const eventsBehind = info.num_pending + info.num_ack_pending;
      if (eventsBehind === 0) return { eventsBehind };
      const oldest = await jsm.streams.getMessage(this.stream, { seq: info.ack_floor.stream_seq + 1 }).then(
        (message) => message.time,
        () => undefined, // gone (limits) or not there: the caller estimates instead
      );
      return { eventsBehind, oldestUnappliedAt: oldest };
    } catch (error) {
      throw new DependencyUnavailableError('nats', error);
    }
  }
}
