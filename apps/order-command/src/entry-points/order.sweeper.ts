import { Component, Logger, PeriodicTask } from '@orderflow/service-kit';
import type { OrderLifecycle } from '../domain/order-lifecycle.use-cases';

/**
 * Periodic safety work: expire unpaid orders past their window, give up placements whose process
 * died mid-way, and retry Commit/Release calls inventory still owes. Safe to run in many processes:
 * every step is a guarded UPDATE, and inventory calls are idempotent.
 */
export class OrderSweeper implements Component {
  readonly name = 'order-sweeper';
  private readonly task: PeriodicTask;

  constructor(
    private readonly lifecycle: OrderLifecycle,
    private readonly logger: Logger,
    intervalMs: number,
    private readonly batchSize = 100,
  ) {
    this.task = new PeriodicTask(this.name, intervalMs, () => this.sweep());
  }

  start(): Promise<void> {
    return this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  async sweep(): Promise<{ expired: number; abandoned: number; settled: number }> {
    const result = { expired: 0, abandoned: 0, settled: 0 };
    try {
      result.expired = await this.lifecycle.expireDue(this.batchSize);
      result.abandoned = await this.lifecycle.failAbandoned(this.batchSize);
      result.settled = await this.lifecycle.settleOwed(this.batchSize);
      if (result.expired + result.abandoned + result.settled > 0) this.logger.info(result, 'sweep');
    } catch (error) {
      this.logger.warn({ err: error }, 'sweep failed; will try again');
    }
    return result;
  }
}
