import { Component, Logger, PeriodicTask } from '@orderflow/service-kit';
import type { PurgeResult, RetentionPurge } from '../domain/retention.use-case';

/**
 * Deletes expired idempotency keys and published outbox rows every `intervalMs`, in the sweeper role.
 * Overlapping purgers in several processes are harmless: each DELETE takes what is still there.
 */
export class RetentionPurger implements Component {
  readonly name = 'retention-purger';
  private readonly task: PeriodicTask;
  private stopping = false;

  constructor(
    private readonly retention: RetentionPurge,
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

  async purge(): Promise<PurgeResult | undefined> {
    try {
      const result = await this.retention.purgeOnce(() => !this.stopping);
      if (result.idempotencyKeys + result.outbox > 0) this.logger.info(result, 'purged old rows');
      return result;
    } catch (error) {
      this.logger.warn({ err: error }, 'purge failed; will try again');
      return undefined;
    }
  }
}
