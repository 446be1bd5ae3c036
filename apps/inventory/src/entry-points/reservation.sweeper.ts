import type { Component, Logger } from '@orderflow/service-kit';
import type { InventoryUseCases } from '../domain/inventory.use-cases';

/** Safety net: gives back reservations whose payment window passed without a Commit or Release. */
export class ReservationSweeper implements Component {
  readonly name = 'reservation-sweeper';
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly useCases: InventoryUseCases,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly batchSize = 100,
  ) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sweep().then(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One pass; releases in batches until nothing expired is left. */
  async sweep(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const released = await this.useCases.releaseExpired(this.batchSize);
        total += released;
        if (released < this.batchSize) break;
      }
      if (total > 0) this.logger.info({ released: total }, 'released expired reservations');
    } catch (error) {
      this.logger.warn({ err: error }, 'sweep failed; will try again');
    }
    return total;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
