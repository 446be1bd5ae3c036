import { PublishWindow } from './publish-window';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('PublishWindow', () => {
  it('when more publishes ask than the window holds, then at most its size are out at once, and the rest go out in the order they asked', async () => {
    const window = new PublishWindow(2);
    const acks = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const all = acks.map((ack, i) =>
      window.run(async () => {
        started.push(i);
        await ack.promise;
        return i;
      }),
    );
    const settled = Promise.allSettled(all);
    await turn();
    expect(started).toEqual([0, 1]);
    expect(window.used).toBe(2);
    acks[1]!.resolve();
    await turn();
    expect(started).toEqual([0, 1, 2]);
    acks[0]!.reject(new Error('no ack'));
    await turn();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const ack of acks) ack.resolve();
    expect(await settled).toEqual([{ status: 'rejected', reason: new Error('no ack') }, ...[1, 2, 3, 4].map((value) => ({ status: 'fulfilled', value }))]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(window.used).toBe(0);
  });

  it('when a slot is free but others wait, then a newcomer queues behind them (first come, first served)', async () => {
    const window = new PublishWindow(1);
    const first = deferred();
    const order: string[] = [];
    const a = window.run(async () => (order.push('a'), first.promise));
    const b = window.run(async () => void order.push('b'));
    first.resolve();
    const c = window.run(async () => void order.push('c'));
    await Promise.all([a, b, c]);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('when the size is not a positive integer, then construction fails', () => {
    expect(() => new PublishWindow(0)).toThrow(/positive integer/);
    expect(() => new PublishWindow(1.5)).toThrow(/positive integer/);
  });
});
