import type { Logger } from './logger';
import type { Component } from './lifecycle';
import { PeriodicTask } from './periodic-task';

/**
 * A purge of old rows run every `intervalMs` beside a sweeper, off the request path. `purgeOnce` works
 * in batches and asks `keepGoing()` between them, so stop() ends a pass after its current batch. A
 * failed pass is logged and tried again at the next tick; a pass that deleted something is logged.
 */
export class PeriodicPurge<R extends { batches: number }> implements Component {
  private readonly task: PeriodicTask;
  private stopping = false;

  constructor(
    readonly name: string,
    private readonly purgeOnce: (keepGoing: () => boolean) => Promise<R>,
    private readonly deleted: (result: R) => number,
    private readonly logger: Logger,
    intervalMs: number,
  ) {
    this.task = new PeriodicTask(name, intervalMs, () => this.purge());
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.task.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.task.stop();
  }

  async purge(): Promise<R | undefined> {
    try {
      const result = await this.purgeOnce(() => !this.stopping);
      if (this.deleted(result) > 0) this.logger.info({ purge: this.name, ...result } as Record<string, unknown>, 'purged old rows');
      return result;
    } catch (error) {
      this.logger.warn({ err: error, purge: this.name }, 'purge failed; will try again');
      return undefined;
    }
  }
}
