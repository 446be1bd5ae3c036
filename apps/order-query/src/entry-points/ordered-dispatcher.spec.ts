import { OrderedDispatcher } from './ordered-dispatcher';

/** A task the test ends by hand, recording when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    open,
    work: async () => {
      log.push(`start ${name}`);
      await opened;
      log.push(`end ${name}`);
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the ordered dispatcher', () => {
  it('when two tasks share a key, then the later one starts only after the earlier one ended', async () => {
    const log: string[] = [];
    const dispatcher = new OrderedDispatcher(4, () => undefined);
    const first = gate(log, 'a1');
    const second = gate(log, 'a2');
    await dispatcher.acquire();
    dispatcher.dispatch(['order-a'], first.work);
    await dispatcher.acquire();
    dispatcher.dispatch(['order-a', 'order-b'], second.work);
    await settle();
    expect(log).toEqual(['start a1']);

    first.open();
    await settle();
    expect(log).toEqual(['start a1', 'end a1', 'start a2']);
    second.open();
    await dispatcher.drain();
    expect(log).toEqual(['start a1', 'end a1', 'start a2', 'end a2']);
  });

  it('when tasks share no key, then they run side by side', async () => {
    const log: string[] = [];
    const dispatcher = new OrderedDispatcher(4, () => undefined);
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    await dispatcher.acquire();
    dispatcher.dispatch(['order-a'], a.work);
    await dispatcher.acquire();
    dispatcher.dispatch(['order-b'], b.work);
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    b.open();
    a.open();
    await dispatcher.drain();
  });

  it('when every slot is taken, then acquire waits until a task ends, and release frees a slot nothing was dispatched in', async () => {
    const log: string[] = [];
    const dispatcher = new OrderedDispatcher(1, () => undefined);
    const a = gate(log, 'a');
    await dispatcher.acquire();
    dispatcher.dispatch(['order-a'], a.work);
    let acquired = false;
    const next = dispatcher.acquire().then(() => (acquired = true));
    await settle();
    expect(acquired).toBe(false);

    a.open();
    await next;
    expect(acquired).toBe(true);
    dispatcher.release();
    await dispatcher.acquire(); // the released slot is free again
    dispatcher.release();
  });

  it('when a task rejects, then the error is reported and its key and slot are freed for the next task', async () => {
    const errors: unknown[] = [];
    const dispatcher = new OrderedDispatcher(1, (error) => errors.push(error));
    await dispatcher.acquire();
    dispatcher.dispatch(['order-a'], async () => Promise.reject(new Error('boom')));
    await dispatcher.acquire();
    let ran = false;
    dispatcher.dispatch(['order-a'], async () => void (ran = true));
    await dispatcher.drain();
    expect(errors).toEqual([new Error('boom')]);
    expect(ran).toBe(true);
  });

  it('when tasks are in flight, then drain resolves only once all of them ended', async () => {
    const log: string[] = [];
    const dispatcher = new OrderedDispatcher(2, () => undefined);
    const a = gate(log, 'a');
    await dispatcher.acquire();
    dispatcher.dispatch(['order-a'], a.work);
    let drained = false;
    const drain = dispatcher.drain().then(() => (drained = true));
    await settle();
    expect(drained).toBe(false);
    a.open();
    await drain;
    expect(log).toEqual(['start a', 'end a']);
  });
});
