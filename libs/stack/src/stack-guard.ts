import type { Server } from './servers';

/** The names of the servers running now (their pid file names a live process). */
export function runningServerNames(servers: readonly Server[]): Set<string> {
  return new Set(servers.filter((server) => server.liveness().state === 'running').map((server) => server.name));
}

/** Which servers a run started: running at its end, not running when it began. */
export function startedSince(before: ReadonlySet<string>, now: ReadonlySet<string>): string[] {
  return [...now].filter((name) => !before.has(name));
}

/** Puts a stack back as a command found it: see guardStack. */
export interface StackGuard {
  /** The servers that were running when the guard was made (left running by `restore`). */
  readonly foundRunning: ReadonlySet<string>;
  /**
   * Stops each server that was not running when the guard was made and is now; returns their names.
   * Once: a second call (Ctrl-C during the first) waits for the first.
   */
  restore(): Promise<string[]>;
}

/**
 * A guard over some servers (`servers()` lists them when asked: a profile's may grow, a third MariaDB
 * started meanwhile): what runs now is remembered, and `restore` stops what was started since.
 */
export function guardServers(servers: () => readonly Server[], log: (line: string) => void = () => undefined): StackGuard {
  const foundRunning = runningServerNames(servers());
  let restoring: Promise<string[]> | undefined;
  return {
    foundRunning,
    restore() {
      restoring ??= (async () => {
        const current = servers();
        const started = startedSince(foundRunning, runningServerNames(current));
        await Promise.all(current.filter((server) => started.includes(server.name)).map((server) => server.stop()));
        if (started.length > 0) log(`stopped what this command started: ${started.join(', ')}`);
        return started;
      })();
      return restoring;
    },
  };
}
