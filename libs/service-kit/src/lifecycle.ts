import type { Logger } from './logger';

/** Anything long-lived: servers, consumers, sweepers, pools. */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts components in order; stops the ones that started in reverse order. Itself a component, so lifecycles nest. */
export class Lifecycle implements Component {
  private readonly started: Component[] = [];

  constructor(
    private readonly components: Component[],
    readonly name = 'lifecycle',
  ) {}

  async start(): Promise<void> {
    for (const component of this.components) {
      try {
        await component.start();
      } catch (error) {
        await this.stop();
        throw error;
      }
      this.started.push(component);
    }
  }

  async stop(): Promise<void> {
    while (this.started.length > 0) {
      const component = this.started.pop() as Component;
      await component.stop();
    }
  }
}

/**
 * For main.ts: starts the lifecycle and stops it on SIGTERM/SIGINT, exiting when it has drained.
 * A second Ctrl-C (SIGINT while draining), or a drain longer than the grace period, forces the exit. A
 * SIGTERM while draining changes nothing: it asks for what is already under way (Ctrl-C reaches a
 * service through the terminal's process group, then the supervisor that started it sends SIGTERM).
 */
export async function runUntilSignal(lifecycle: Lifecycle, logger: Logger, graceMs = 25_000): Promise<void> {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      if (signal === 'SIGTERM') return logger.info({ signal }, 'already shutting down');
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown took too long: exiting');
      process.exit(1);
    }, graceMs);
    force.unref();
    lifecycle.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await lifecycle.start();
}
