/**
 * Runs tasks concurrently, up to `slots` at once, except that tasks sharing a key (an order id) run one
 * after another, in the order they were dispatched. A task waits only for earlier tasks, so waits never
 * form a circle, and tasks without a shared key run side by side.
 *
 * The caller takes a slot (`acquire`) before it gathers a task's work, so while every slot is busy the
 * work waiting outside gathers and the next task is larger; `dispatch` then keeps that slot until the
 * task ends, and `release` gives it back when nothing was dispatched.
 */
export class OrderedDispatcher {
  private readonly tasks = new Set<Promise<void>>();
  /** The last task in flight of each key; a later task holding that key runs after it. */
  private readonly chains = new Map<string, Promise<void>>();
  private inFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];

  constructor(
    private readonly slots: number,
    /** Told of a task that rejected; the task's slot and keys are freed all the same. */
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Resolves once a slot is free, and takes it. */
  async acquire(): Promise<void> {
    while (this.inFlight >= this.slots) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.inFlight++;
  }

  /** Gives back a slot taken with `acquire` for which nothing was dispatched. */
  release(): void {
    this.inFlight--;
    this.slotWaiters.shift()?.();
  }

  /** Runs `work` in the slot taken with `acquire`, once every task dispatched earlier with one of `keys` has ended. */
  dispatch(keys: readonly string[], work: () => Promise<void>): void {
    const unique = [...new Set(keys)];
    const before = unique.flatMap((key) => this.chains.get(key) ?? []);
    const task = Promise.all(before)
      .then(work)
      .catch((error: unknown) => this.onError(error));
    for (const key of unique) this.chains.set(key, task);
    this.tasks.add(task);
    void task.finally(() => {
      this.tasks.delete(task);
      for (const key of unique) if (this.chains.get(key) === task) this.chains.delete(key);
      this.release();
    });
  }

  /** Resolves when every task dispatched so far has ended. */
  async drain(): Promise<void> {
    await Promise.all(this.tasks);
  }
}
