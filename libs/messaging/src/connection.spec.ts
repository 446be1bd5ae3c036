import { parseServers } from './connection';

describe('NATS server list', () => {
  it('when several servers are given, then each is trimmed and kept in order', () => {
    expect(parseServers('127.0.0.1:4222')).toEqual(['127.0.0.1:4222']);
    expect(parseServers(' nats-0:4222, nats-1:4222 ,nats-2:4222,')).toEqual(['nats-0:4222', 'nats-1:4222', 'nats-2:4222']);
  });

  it('when the list is empty, then it fails naming the expected form', () => {
    expect(() => parseServers(' , ')).toThrow(/host:port/);
  });
});
