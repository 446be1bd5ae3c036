/**
 * In-process FIFO mutexes by key. Requests for the same product inside one process queue here, in
 * arrival order, so only one of them at a time contends for the distributed lock.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Acquires every key in sorted order (no deadlock between overlapping key sets). */
  async acquire(keys: string[], timeoutMs: number): Promise<() => void> {
    const releases: (() => void)[] = [];
    const releaseAll = () =>
      releases
        .splice(0)
        .reverse()
        .forEach((release) => release());
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.acquireOne(key, timeoutMs));
    } catch (error) {
      releaseAll();
      throw error;
    }
    return releaseAll;
  }

  private async acquireOne(key: string, timeoutMs: number): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    const done = () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const outcome = await Promise.race([previous.then(() => 'acquired' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      // Keep our place in the chain consistent: pass the turn on as soon as it reaches us.
      void previous.then(done);
      throw new LockWaitTimeout(key, timeoutMs);
    }
    return done;
  }
}

export class LockWaitTimeout extends Error {
  constructor(
    readonly key: string,
    timeoutMs: number,
  ) {
    super(`waited more than ${timeoutMs} ms for ${key}`);
  }
}
