import type { JetStreamClient, NatsConnection } from 'nats';
import { JetStreamPublisher } from './publisher';

function fakeConnection(ack: { seq: number; duplicate: boolean }) {
  const calls: unknown[][] = [];
  const js = {
    publish: async (...args: unknown[]) => {
      calls.push(args);
      return { stream: 'S', ...ack };
    },
  } as unknown as JetStreamClient;
  const nc: Pick<NatsConnection, 'jetstream'> = { jetstream: () => js };
  return { nc, calls };
}

describe('JetStreamPublisher', () => {
  it('when it publishes, then the event id is the JetStream message id and the ack maps to sequence and duplicate', async () => {
    const { nc, calls } = fakeConnection({ seq: 7, duplicate: true });
    const payload = Uint8Array.of(1, 2, 3);
    await expect(new JetStreamPublisher(nc, { timeoutMs: 1_500 }).publish('orders.v1.placed', payload, 'event-1')).resolves.toEqual({
      duplicate: true,
      sequence: 7,
    });
    expect(calls).toEqual([['orders.v1.placed', payload, { msgID: 'event-1', timeout: 1_500 }]]);
  });

  it('when an expected stream is configured, then the server is asked to check it', async () => {
    const { nc, calls } = fakeConnection({ seq: 1, duplicate: false });
    await new JetStreamPublisher(nc, { expectedStream: 'ORDERS' }).publish('orders.v1.paid', new Uint8Array(), 'event-2');
    expect(calls[0]?.[2]).toEqual({ msgID: 'event-2', timeout: 5_000, expect: { streamName: 'ORDERS' } });
  });

  it('when headers are given, then they travel with the message (the trace context of the event)', async () => {
    const { nc, calls } = fakeConnection({ seq: 1, duplicate: false });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await new JetStreamPublisher(nc).publish('orders.v1.placed', new Uint8Array(), 'event-3', { traceparent });
    const options = calls[0]?.[2] as { headers?: { get(name: string): string } };
    expect(options.headers?.get('traceparent')).toBe(traceparent);
  });

  it('when the message id is empty, then it refuses to publish a message that could not be de-duplicated', async () => {
    const { nc, calls } = fakeConnection({ seq: 1, duplicate: false });
    await expect(new JetStreamPublisher(nc).publish('orders.v1.paid', new Uint8Array(), '')).rejects.toThrow(/without a message id/);
    expect(calls).toHaveLength(0);
  });

  it('when the timeout is not a positive integer, then construction fails', () => {
    expect(() => new JetStreamPublisher(fakeConnection({ seq: 1, duplicate: false }).nc, { timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});
