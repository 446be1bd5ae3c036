import { ReadyGroups } from './ready-groups';

/** An async iterator fed by hand, handing out what it holds and waiting when empty (as nats.js does). */
function feed<T>() {
  const items: T[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  let failure: unknown;
  async function* iterate(): AsyncGenerator<T> {
    for (;;) {
      if (items.length > 0) {
        yield items.shift()!;
        continue;
      }
      if (failure) throw failure;
      if (closed) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  return {
    iterator: iterate(),
    push: (...values: T[]) => {
      items.push(...values);
      poke();
    },
    close: () => {
      closed = true;
      poke();
    },
    fail: (error: unknown) => {
      failure = error;
      poke();
    },
  };
}

const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('groups of what is ready', () => {
  it('when items are already buffered, then one group takes them, at most max', async () => {
    const f = feed<number>();
    const groups = new ReadyGroups(f.iterator, 4);
    f.push(1, 2, 3, 4, 5, 6);
    expect(await groups.next()).toEqual([1, 2, 3, 4]);
    expect(await groups.next()).toEqual([5, 6]);
  });

  it('when one item arrives alone, then it is a group of one at once, and items arriving later form the next group', async () => {
    const f = feed<number>();
    const groups = new ReadyGroups(f.iterator, 64);
    const first = groups.next();
    await later(5);
    f.push(1);
    expect(await first).toEqual([1]);
    const second = groups.next();
    await later(5);
    f.push(2, 3);
    expect(await second).toEqual([2, 3]);
  });

  it('when nothing arrives, then next() waits without settling', async () => {
    const groups = new ReadyGroups(feed<number>().iterator, 8);
    expect(await Promise.race([groups.next(), later(30).then(() => 'still waiting')])).toBe('still waiting');
  });

  it('when the iterator ends, then the buffered items come first, then undefined', async () => {
    const f = feed<number>();
    const groups = new ReadyGroups(f.iterator, 8);
    f.push(1, 2);
    f.close();
    expect(await groups.next()).toEqual([1, 2]);
    expect(await groups.next()).toBeUndefined();
    expect(await groups.next()).toBeUndefined();
  });

  it('when the iterator fails after some items, then those items are handed out and the next call throws', async () => {
    const f = feed<number>();
    const groups = new ReadyGroups(f.iterator, 8);
    f.push(1, 2);
    f.fail(new Error('consumer deleted'));
    expect(await groups.next()).toEqual([1, 2]);
    await expect(groups.next()).rejects.toThrow('consumer deleted');
  });
});
