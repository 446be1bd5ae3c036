import { Logger, PeriodicSweep } from '@orderflow/service-kit';
import type { InventoryUseCases } from '../domain/inventory.use-cases';

/** Safety net: gives back reservations whose payment window passed without a Commit or Release. */
export class ReservationSweeper extends PeriodicSweep<number> {
  constructor(
    private readonly useCases: InventoryUseCases,
    private readonly logger: Logger,
    intervalMs: number,
    private readonly batchSize = 100,
  ) {
    super('reservation-sweeper', intervalMs);
  }

  /** One pass; releases in batches until nothing expired is left. */
  async sweep(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const released = await this.useCases.releaseExpired(this.batchSize, (orderId, error) =>
          this.logger.warn({ err: error, orderId }, 'could not release an expired reservation; the next sweep retries it'),
        );
        total += released;
        if (released < this.batchSize) break;
      }
      if (total > 0) this.logger.info({ released: total }, 'released expired reservations');
    } catch (error) {
      this.logger.warn({ err: error }, 'sweep failed; will try again');
    }
    return total;
  }
}
