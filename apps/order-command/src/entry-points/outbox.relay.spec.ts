import { createLogger } from '@orderflow/service-kit';
import type { EventPublisher, OutboxEvent, OutboxStore, RelayedBatch } from '../domain/outbox.ports';
import { OutboxPublishError, OutboxRelay } from './outbox.relay';

const event = (id: string): OutboxEvent => ({ id, eventId: `e${id}`, subject: 'orders.v1.placed', payload: new Uint8Array([1]), traceparent: null });

/** One shard's outbox in memory: a batch marks what publish reports sent, or nothing when publish throws. */
function memoryStore(unsent: OutboxEvent[]) {
  const marked: { sent: string[]; failed: string[] }[] = [];
  const store: OutboxStore = {
    shardCount: 1,
    async relayBatch<R extends RelayedBatch>(_shard: number, limit: number, publish: (events: OutboxEvent[]) => Promise<R>) {
      const events = unsent.slice(0, limit);
      if (events.length === 0) return undefined;
      const result = await publish(events);
      marked.push({ sent: result.sent.map((e) => e.id), failed: result.failed.map((e) => e.id) });
      for (const sent of result.sent) unsent.splice(unsent.indexOf(sent), 1);
      return result;
    },
    countUnsent: async () => unsent.length,
  };
  return { store, marked };
}

const publisherFailing = (failing: Set<string>): EventPublisher => ({
  publish: async (e) => {
    if (failing.has(e.id)) throw new Error(`no ack for ${e.id}`);
  },
});

const logger = createLogger('outbox-relay-spec', 'silent');

describe('OutboxRelay.relayOnce', () => {
  it('when every publish is acked, then the whole batch is reported sent and counted', async () => {
    const { store, marked } = memoryStore([event('1'), event('2'), event('3')]);
    const relay = new OutboxRelay({ store, publisher: publisherFailing(new Set()), logger, batchSize: 2 });
    expect(await relay.relayOnce(0)).toBe(2);
    expect(marked).toEqual([{ sent: ['1', '2'], failed: [] }]);
    expect(await relay.backlog()).toBe(1);
  });

  it('when some publishes fail, then the acked ones are marked sent and an OutboxPublishError names the counts', async () => {
    const { store, marked } = memoryStore([event('1'), event('2'), event('3')]);
    const relay = new OutboxRelay({ store, publisher: publisherFailing(new Set(['2'])), logger });
    const error = await relay.relayOnce(0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboxPublishError);
    expect(error).toMatchObject({ shard: 0, published: 2, failed: 1, cause: new Error('no ack for 2') });
    expect(marked).toEqual([{ sent: ['1', '3'], failed: ['2'] }]);
  });

  it('when the afterPublish hook throws, then nothing of the batch is marked and the error comes out', async () => {
    const { store, marked } = memoryStore([event('1')]);
    const hooks = { afterPublish: async () => Promise.reject(new Error('crash after publish')) };
    const relay = new OutboxRelay({ store, publisher: publisherFailing(new Set()), logger, hooks });
    await expect(relay.relayOnce(0)).rejects.toThrow('crash after publish');
    expect(marked).toEqual([]);
    expect(await relay.backlog()).toBe(1);
  });

  it('when the outbox is empty, then nothing is published and the batch counts zero', async () => {
    const publish = jest.fn(async () => undefined);
    const relay = new OutboxRelay({ store: memoryStore([]).store, publisher: { publish }, logger });
    expect(await relay.relayOnce(0)).toBe(0);
    expect(publish).not.toHaveBeenCalled();
  });

  it('when a batch is larger than the publish window, then every event goes out in claim order, never more than the window awaiting acks', async () => {
    const events = Array.from({ length: 10 }, (_, i) => event(String(i + 1)));
    const { store, marked } = memoryStore([...events]);
    const sentOrder: string[] = [];
    let awaiting = 0;
    let most = 0;
    const publisher: EventPublisher = {
      publish: async (e) => {
        sentOrder.push(e.id);
        most = Math.max(most, ++awaiting);
        await new Promise((resolve) => setTimeout(resolve, 2));
        awaiting--;
      },
    };
    const relay = new OutboxRelay({ store, publisher, logger, batchSize: 10, publishWindow: 3 });
    expect(await relay.relayOnce(0)).toBe(10);
    expect(sentOrder).toEqual(events.map((e) => e.id));
    expect(most).toBe(3);
    expect(marked).toEqual([{ sent: events.map((e) => e.id), failed: [] }]);
  });

  it('when a batch fits the window, then all its publishes await their acks together, not one after another', async () => {
    const { store } = memoryStore(Array.from({ length: 50 }, (_, i) => event(String(i + 1))));
    let awaiting = 0;
    let most = 0;
    const publisher: EventPublisher = {
      publish: async () => {
        most = Math.max(most, ++awaiting);
        await new Promise((resolve) => setImmediate(resolve));
        awaiting--;
      },
    };
    expect(await new OutboxRelay({ store, publisher, logger, batchSize: 50 }).relayOnce(0)).toBe(50);
    expect(most).toBe(50);
  });

  it('when the publish window is not a positive integer, then construction fails', () => {
    expect(() => new OutboxRelay({ store: memoryStore([]).store, publisher: publisherFailing(new Set()), logger, publishWindow: 0 })).toThrow(
      /publishWindow must be a positive integer/,
    );
  });

  it('when asked for a shard the store does not have, then it is refused', async () => {
    const relay = new OutboxRelay({ store: memoryStore([]).store, publisher: publisherFailing(new Set()), logger });
    await expect(relay.relayOnce(1)).rejects.toThrow(RangeError);
  });

  it('when a shard has two loops, then a second batch is claimed and published while the first waits for its acks, and none is claimed twice', async () => {
    const unsent = Array.from({ length: 6 }, (_, i) => event(String(i)));
    const claimed = new Set<string>();
    const batches: string[][] = [];
    const store: OutboxStore = {
      shardCount: 1,
      async relayBatch<R extends RelayedBatch>(_shard: number, limit: number, publish: (events: OutboxEvent[]) => Promise<R>) {
        // SKIP LOCKED: rows another batch holds are passed over.
        const events = unsent.filter((e) => !claimed.has(e.id)).slice(0, limit);
        if (events.length === 0) return undefined;
        events.forEach((e) => claimed.add(e.id));
        batches.push(events.map((e) => e.id));
        const result = await publish(events);
        for (const sent of result.sent) unsent.splice(unsent.indexOf(sent), 1);
        return result;
      },
      countUnsent: async () => unsent.length,
    };
    const acks: (() => void)[] = [];
    const publisher: EventPublisher = { publish: () => new Promise<void>((resolve) => acks.push(resolve)) };
    const relay = new OutboxRelay({ store, publisher, logger, batchSize: 3, loopsPerShard: 2, pollIntervalMs: 10_000 });
    await relay.start();
    await new Promise((r) => setTimeout(r, 20));
    // Both loops hold a batch, and six publishes await their acks: the second batch did not wait for the first.
    expect(batches).toEqual([
      ['0', '1', '2'],
      ['3', '4', '5'],
    ]);
    expect(acks).toHaveLength(6);
    acks.forEach((ack) => ack());
    const stopped = relay.stop();
    await stopped;
    expect(await relay.backlog()).toBe(0);
  });

  /** One shard's outbox whose publishes wait for the test's ack; records each claim's events (none: an empty claim). */
  function heldAcks() {
    const unsent: OutboxEvent[] = [];
    const claims: string[][] = [];
    const claimed = new Set<string>();
    const acks: (() => void)[] = [];
    const store: OutboxStore = {
      shardCount: 1,
      async relayBatch<R extends RelayedBatch>(_shard: number, limit: number, publish: (events: OutboxEvent[]) => Promise<R>) {
        const events = unsent.filter((e) => !claimed.has(e.id)).slice(0, limit);
        claims.push(events.map((e) => e.id));
        if (events.length === 0) return undefined;
        events.forEach((e) => claimed.add(e.id));
        const result = await publish(events);
        for (const sent of result.sent) unsent.splice(unsent.indexOf(sent), 1);
        return result;
      },
      countUnsent: async () => unsent.length,
    };
    const publisher: EventPublisher = { publish: () => new Promise<void>((resolve) => acks.push(resolve)) };
    const ackAll = () => acks.splice(0).forEach((ack) => ack());
    return { unsent, claims, store, publisher, ackAll };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

  it('when new rows are notified while both loops of a shard sleep, then one loop claims them, not both', async () => {
    const { unsent, claims, store, publisher, ackAll } = heldAcks();
    const sizes: number[] = [];
    const relay = new OutboxRelay({ store, publisher, logger, loopsPerShard: 2, pollIntervalMs: 10_000, onBatch: (n) => sizes.push(n) });
    await relay.start();
    await settle(); // both loops made their first (empty) claim and sleep
    expect(claims).toEqual([[], []]);
    unsent.push(event('1'), event('2'));
    relay.notify(0);
    relay.notify(0);
    await settle();
    ackAll();
    await settle();
    expect(claims).toEqual([[], [], ['1', '2']]);
    expect(sizes).toEqual([0, 0, 2]);
    await relay.stop();
  });

  it('when rows are notified while one loop waits for its acks, then the other loop claims them meanwhile', async () => {
    const { unsent, claims, store, publisher, ackAll } = heldAcks();
    const relay = new OutboxRelay({ store, publisher, logger, loopsPerShard: 2, pollIntervalMs: 10_000 });
    await relay.start();
    await settle();
    unsent.push(event('1'));
    relay.notify(0);
    await settle(); // one loop holds ['1'], waiting for its ack
    unsent.push(event('2'));
    relay.notify(0);
    await settle();
    expect(claims).toEqual([[], [], ['1'], ['2']]);
    ackAll();
    await settle();
    await relay.stop();
    expect(await relay.backlog()).toBe(0);
  });
});
