const NOT_READY = Symbol('not ready');

const nextTurn = () => new Promise<typeof NOT_READY>((resolve) => setImmediate(() => resolve(NOT_READY)));

/**
 * Reads an async iterator (a nats.js pull) in groups: waits for a first item, then adds the items
 * that are ready now, up to `max`. Ready means next() settles before the event loop's next turn: the
 * iterator hands out what it holds in microtasks and only waits when it is empty. No timer: a lone
 * item is a group of one at once, and a burst that arrived together is taken together.
 */
export class ReadyGroups<T> {
  /** A next() asked for and not yet taken: kept for the next group. */
  private pending?: Promise<IteratorResult<T>>;
  private done = false;

  constructor(
    private readonly iterator: AsyncIterator<T>,
    private readonly max: number,
  ) {}

  /** At least one item, or undefined when the iterator is done; rejects when the iterator fails. */
  async next(): Promise<T[] | undefined> {
    if (this.done) return undefined;
    const first = await this.take();
    if (first.done) {
      this.done = true;
      return undefined;
    }
    const group = [first.value];
    const turn = nextTurn();
    while (group.length < this.max) {
      // A failure is left pending: this group is handed out, the next call throws it.
      const ready = await Promise.race([this.peek().catch((): typeof NOT_READY => NOT_READY), turn]);
      if (ready === NOT_READY) break;
      this.pending = undefined;
      if (ready.done) {
        this.done = true;
        break;
      }
      group.push(ready.value);
    }
    return group;
  }

  private peek(): Promise<IteratorResult<T>> {
    return (this.pending ??= this.iterator.next());
  }

  private take(): Promise<IteratorResult<T>> {
    const next = this.peek();
    this.pending = undefined;
    return next;
  }
}
