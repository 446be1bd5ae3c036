/**
 * Bounds the publishes awaiting their ack at once (the relay's OUTBOX_PUBLISH_WINDOW), over every shard
 * loop of a relay: a slot is taken before a publish goes out and given back once it is acked or failed.
 * First come, first served: publishes go out in the order they asked for a slot, so a batch's events
 * leave in claim order (the stream keeps one connection's messages in the order they were sent).
 */
export class PublishWindow {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size <= 0) throw new Error('publish window: size must be a positive integer');
  }

  /** Publishes out and not yet acked or failed. */
  get used(): number {
    return this.inFlight;
  }

  /** Runs `publish` once a slot is free, in the order of the calls; the slot is freed when it settles. */
  async run<T>(publish: () => Promise<T>): Promise<T> {
    if (this.inFlight < this.size && this.waiting.length === 0) this.inFlight++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the slot is handed over by release()
    try {
      return await publish();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }
}
