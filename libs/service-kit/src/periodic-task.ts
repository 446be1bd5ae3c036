import type { Component } from './lifecycle';

/**
 * Runs `work` every `intervalMs`, never two runs at once (a slow run delays the next, it does not stack
 * up). stop() waits for a run in progress. Errors are the work's own business: it should catch and log.
 */
export class PeriodicTask implements Component {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<unknown>,
  ) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => {
      this.running ??= this.work()
        .catch(() => undefined)
        .then(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
