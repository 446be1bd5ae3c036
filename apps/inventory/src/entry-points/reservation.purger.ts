import { Component, Logger, PeriodicTask } from '@orderflow/service-kit';
import type { ReservationPurge } from '../domain/reservation-retention.use-case';

/**
 * Deletes settled reservations past their retention every `intervalMs`, beside the sweeper. Several
 * inventory processes may purge at once: each batch locks the rows it deletes.
 */
export class ReservationPurger implements Component {
  readonly name = 'reservation-purger';
  private readonly task: PeriodicTask;
  private stopping = false;

  constructor(
    private readonly retention: ReservationPurge,
    private readonly logger: Logger,
    intervalMs: number,
  ) {
    this.task = new PeriodicTask(this.name, intervalMs, () => this.purge());
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.task.start();
  }

  async stop(): Promise<void> {
    this.stopping = true; // a pass in progress ends after its current batch
    await this.task.stop();
  }

  async purge(): Promise<{ deleted: number; batches: number } | undefined> {
    try {
      const result = await this.retention.purgeOnce(() => !this.stopping);
      if (result.deleted > 0) this.logger.info(result, 'purged settled reservations');
      return result;
    } catch (error) {
      this.logger.warn({ err: error }, 'reservation purge failed; will try again');
      return undefined;
    }
  }
}
