import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { startStack, stackStatus, TEST_MARIADB_COUNT, TEST_REDIS_COUNT, testStack } from '../src';
import { probe } from '../src/processes';

describe('the local stack (real MariaDB, Redis and NATS processes)', () => {
  it('when up runs again on a running stack, then every server is reported already running and keeps its pid', async () => {
    const before = await stackStatus('test');
    const lines: string[] = [];
    await startStack({ profile: 'test', redisCount: TEST_REDIS_COUNT, mariadbCount: TEST_MARIADB_COUNT, log: (line) => lines.push(line) });
    expect(lines.filter((l) => l.includes('already running'))).toHaveLength(TEST_MARIADB_COUNT + TEST_REDIS_COUNT + 1);
    const after = await stackStatus('test');
    expect(after.map((s) => [s.name, s.pid])).toEqual(before.map((s) => [s.name, s.pid]));
    expect(
      after
        .filter((s) => s.running)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['mariadb-0', 'mariadb-1', 'mariadb-2', 'nats', 'redis-0', 'redis-1', 'redis-2']);
  });

  it('when the servers are probed, then each speaks its protocol on its port and listens on loopback only', async () => {
    const info = testStack.info();
    for (const redis of info.redis) expect(await probe(redis.port, 'PING\r\n')).toMatch(/^\+PONG/);
    expect(await probe(Number(info.nats.servers.split(':')[1]))).toMatch(/^INFO .*"jetstream":true/);
    for (const mysql of info.mysql) {
      const version = execFileSync(
        'mariadb',
        ['--no-defaults', '-h', mysql.host, '-P', String(mysql.port), `-u${mysql.user}`, `-p${mysql.password}`, '-N', '-e', 'SELECT @@version'],
        {
          encoding: 'utf8',
        },
      );
      expect(version).toMatch(/MariaDB/);
    }
    // /proc/net/tcp: local address as hex IP:port, state 0A = LISTEN. 0100007F is 127.0.0.1.
    const listeners = fs
      .readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A')
      .map((fields) => ({ ip: fields[1]!.split(':')[0], port: Number.parseInt(fields[1]!.split(':')[1]!, 16) }));
    const ports = [...info.mysql.map((m) => m.port), ...info.redis.map((r) => r.port), Number(info.nats.servers.split(':')[1])];
    for (const port of ports) {
      const bound = listeners.filter((l) => l.port === port);
      expect(bound.length).toBeGreaterThan(0);
      for (const listener of bound) expect({ port, ip: listener.ip }).toEqual({ port, ip: '0100007F' });
    }
  });
});
