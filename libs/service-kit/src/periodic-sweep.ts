import type { Component } from './lifecycle';
import { PeriodicTask } from './periodic-task';

/**
 * A sweeper: `sweep()` run every `intervalMs` by a PeriodicTask (never two passes at once; stop() waits
 * for the one in progress), and callable by hand (tests, an operator). The pass catches and logs its own
 * failures; a subclass says only what one pass does.
 */
export abstract class PeriodicSweep<R> implements Component {
  private readonly task: PeriodicTask;

  constructor(
    readonly name: string,
    intervalMs: number,
  ) {
    this.task = new PeriodicTask(name, intervalMs, () => this.sweep());
  }

  start(): Promise<void> {
    return this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  abstract sweep(): Promise<R>;
}
