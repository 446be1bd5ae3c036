import { ConfigError } from '@orderflow/service-kit';
import { loadConfig } from './config';

describe('order-query configuration', () => {
  it('when nothing is set, then the dev stack defaults apply', () => {
    const config = loadConfig({});
    expect(config.grpc).toEqual({ host: '127.0.0.1', port: 50053 });
    expect(config.shards.map((s) => `${s.port}/${s.database}`)).toEqual([
      '13306/orderflow_read_0',
      '13307/orderflow_read_1',
      '13306/orderflow_read_2',
      '13307/orderflow_read_3',
    ]);
    expect(config.nats).toMatchObject({
      stream: 'ORDERS',
      subjectPrefix: 'orders.v1',
      consumer: 'order-query',
      deadLetterSubject: 'orders.deadletter.v1',
      maxDeliver: 60,
      ackWaitMs: 30_000,
    });
    expect(config.cursorSecret).toBe('orderflow-dev-cursor-secret');
    expect(config.projection).toMatchObject({ concurrency: 16, batchSize: 128, pullExpiresMs: 1000, batchMax: 128 });
    expect(config).toMatchObject({ shardMapPollMs: 1_000, shardMoveMaxWaitMs: 5_000 });
  });

  it('when the live map settings are set, then they are read; a poll under 10 ms is refused by name', () => {
    expect(loadConfig({ READ_SHARD_MAP_POLL_MS: '250', READ_SHARD_MOVE_MAX_WAIT_MS: '0' })).toMatchObject({ shardMapPollMs: 250, shardMoveMaxWaitMs: 0 });
    expect(() => loadConfig({ READ_SHARD_MAP_POLL_MS: '5' })).toThrow(/READ_SHARD_MAP_POLL_MS/);
    // A projection still waiting when ack_wait runs out would be delivered to another process meanwhile.
    expect(() => loadConfig({ READ_SHARD_MOVE_MAX_WAIT_MS: '30000' })).toThrow(/READ_SHARD_MOVE_MAX_WAIT_MS: 30000 must be below ACK_WAIT_MS \(30000\)/);
  });

  it('when the dead-letter subject is inside the event subjects, then start-up fails naming it', () => {
    expect(() => loadConfig({ DEAD_LETTER_SUBJECT: 'orders.v1.dead' })).toThrow(ConfigError);
    expect(() => loadConfig({ DEAD_LETTER_SUBJECT: 'orders.v1.dead' })).toThrow('DEAD_LETTER_SUBJECT');
  });

  it.each([
    ['READ_SHARDS', 'db-without-port/x'],
    ['DEAD_LETTER_SUBJECT', 'orders.*'],
    ['QUERY_CURSOR_SECRET', 'short'],
    ['MAX_DELIVER', '1'],
    ['PROJECTION_BATCH_MAX', '0'],
    ['PROJECTION_BATCH_MAX', '1001'],
    ['PROJECTION_BATCH_MAX', 'many'],
  ])('when %s is %s, then start-up fails naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('when the stream bounds are not set, then ORDERS keeps a week and 1 GiB as in order-command; 0 lifts a bound; an age under the duplicate window is refused by name', () => {
    expect(loadConfig({}).nats).toMatchObject({ maxAgeMs: 604_800_000, maxBytes: 1_073_741_824 });
    expect(loadConfig({ ORDERS_STREAM_MAX_AGE_MS: '0', ORDERS_STREAM_MAX_BYTES: '0' }).nats).toMatchObject({ maxAgeMs: 0, maxBytes: -1 });
    expect(() => loadConfig({ ORDERS_STREAM_MAX_AGE_MS: '1000' })).toThrow(/ORDERS_STREAM_MAX_AGE_MS/);
  });
});
