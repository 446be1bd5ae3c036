import { Logger, PeriodicSweep } from '@orderflow/service-kit';
import type { OrderLifecycle } from '../domain/order-lifecycle.use-cases';

/**
 * Periodic safety work: expire unpaid orders past their window, give up placements whose process
 * died mid-way, and retry Commit/Release calls inventory still owes. Safe to run in many processes:
 * every step is a guarded UPDATE, and inventory calls are idempotent.
 */
export class OrderSweeper extends PeriodicSweep<{ expired: number; abandoned: number; settled: number }> {
  constructor(
    private readonly lifecycle: OrderLifecycle,
    private readonly logger: Logger,
    intervalMs: number,
    private readonly batchSize = 100,
  ) {
    super('order-sweeper', intervalMs);
  }

  /**
   * One pass. Each step runs whatever the others did (a step whose listing fails is logged and skipped
   * until the next pass), and inside a step each order fails alone (the use cases log it and go on).
   */
  async sweep(): Promise<{ expired: number; abandoned: number; settled: number }> {
    const step = async (name: string, work: () => Promise<number>): Promise<number> => {
      try {
        return await work();
      } catch (error) {
        this.logger.warn({ err: error, step: name }, 'sweep step failed; will try again');
        return 0;
      }
    };
    const result = {
      expired: await step('expire', () => this.lifecycle.expireDue(this.batchSize)),
      abandoned: await step('fail-abandoned', () => this.lifecycle.failAbandoned(this.batchSize)),
      settled: await step('settle', () => this.lifecycle.settleOwed(this.batchSize)),
    };
    if (result.expired + result.abandoned + result.settled > 0) this.logger.info(result, 'sweep');
    return result;
  }
}
