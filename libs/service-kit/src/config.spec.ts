import { ConfigError, env, eventStreamSettings, eventStreamVariables, readEnv } from './config';

describe('readEnv', () => {
  const shape = { PORT: env.port(50051), REDIS: env.hostPorts('127.0.0.1:6379'), FLAG: env.bool(false) };

  it('when variables are absent, then the documented defaults apply', () => {
    expect(readEnv(shape, {})).toEqual({ PORT: 50051, REDIS: [{ host: '127.0.0.1', port: 6379 }], FLAG: false });
  });

  it('when variables are set, then they are parsed into typed values', () => {
    expect(readEnv(shape, { PORT: '7000', REDIS: 'a:1,b:2', FLAG: 'true' })).toEqual({
      PORT: 7000,
      REDIS: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2 },
      ],
      FLAG: true,
    });
  });

  it('when variables are bad, then every bad one is named', () => {
    try {
      readEnv(shape, { PORT: 'http', REDIS: 'nohost', FLAG: 'maybe' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      for (const name of ['PORT', 'REDIS', 'FLAG']) expect(message).toContain(name);
    }
  });
});

describe('env.shardList', () => {
  const shape = { SHARDS: env.shardList('127.0.0.1:1/a,127.0.0.1:2/b') };

  it('when shards are listed, then each becomes host, port and database in order', () => {
    expect(readEnv(shape, {}).SHARDS).toEqual([
      { host: '127.0.0.1', port: 1, database: 'a' },
      { host: '127.0.0.1', port: 2, database: 'b' },
    ]);
  });

  it('when an entry is malformed, then the variable is named with the entry', () => {
    expect(() => readEnv(shape, { SHARDS: 'db1:3306/ok,nohost' })).toThrow(/SHARDS: "nohost" is not host:port\/database/);
  });
});

describe('the event stream variables', () => {
  const shape = eventStreamVariables({ maxAgeMs: 7 * 86_400_000, maxBytes: 1024 });

  it('when none is set, then the stream is ORDERS on orders.v1 with the given bounds', () => {
    expect(eventStreamSettings(readEnv(shape, {}))).toEqual({
      servers: '127.0.0.1:14222',
      stream: 'ORDERS',
      subjectPrefix: 'orders.v1',
      duplicateWindowMs: 7_200_000,
      maxAgeMs: 604_800_000,
      maxBytes: 1024,
      replicas: 1,
    });
  });

  it('when the byte bound is 0, then the stream has no byte limit (-1)', () => {
    expect(eventStreamSettings(readEnv(shape, { ORDERS_STREAM_MAX_BYTES: '0' })).maxBytes).toBe(-1);
  });

  it('when the age limit is shorter than the duplicate window, then it is refused by name', () => {
    expect(() => eventStreamSettings(readEnv(shape, { ORDERS_STREAM_MAX_AGE_MS: '1000' }))).toThrow(/ORDERS_STREAM_MAX_AGE_MS: 1000 is shorter/);
  });

  it('when a name or subject has wildcards or spaces, then the variable is named', () => {
    expect(() => readEnv(shape, { ORDERS_STREAM: 'A.B' })).toThrow(/ORDERS_STREAM: must have no dots/);
    expect(() => readEnv(shape, { ORDER_EVENT_SUBJECT_PREFIX: 'orders.*' })).toThrow(/ORDER_EVENT_SUBJECT_PREFIX: must be dot-separated/);
    expect(() => readEnv(shape, { ORDERS_STREAM_REPLICAS: '6' })).toThrow(/ORDERS_STREAM_REPLICAS/);
  });
});
