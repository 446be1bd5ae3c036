import { KeyedMutex, LockWaitTimeout } from './keyed-mutex';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedMutex', () => {
  it('when many wait for one key, then they run one at a time in arrival order', async () => {
    const mutex = new KeyedMutex();
    const order: number[] = [];
    let inside = 0;
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const release = await mutex.acquire(['p1'], 1000);
        inside++;
        expect(inside).toBe(1);
        order.push(i);
        await tick();
        inside--;
        release();
      }),
    );
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('when key sets overlap in different orders, then nobody deadlocks', async () => {
    const mutex = new KeyedMutex();
    const runs = Array.from({ length: 50 }, async (_, i) => {
      const release = await mutex.acquire(i % 2 ? ['a', 'b'] : ['b', 'a'], 1000);
      await tick();
      release();
    });
    await expect(Promise.all(runs)).resolves.toHaveLength(50);
  });

  it('when the wait runs out, then the waiter fails and later waiters still get their turn', async () => {
    const mutex = new KeyedMutex();
    const holder = await mutex.acquire(['k'], 1000);
    await expect(mutex.acquire(['k'], 20)).rejects.toBeInstanceOf(LockWaitTimeout);
    const later = mutex.acquire(['k'], 1000);
    holder();
    const release = await later;
    release();
  });
});
