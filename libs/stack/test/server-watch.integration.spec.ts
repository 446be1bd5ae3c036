import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, MYSQL_PASSWORD, MYSQL_USER, Supervisor, SupervisorEvent, watchServers } from '../src';
import { isAlive, portIsOpen, probe, sleep } from '../src/processes';
import { MariaDbServer, NatsServer, RedisServer, Server } from '../src/servers';

/** Servers of this spec's own, on free ports in a temporary folder: the shared test stack is never touched. */
describe('watching the stack servers (real Redis and MariaDB processes of our own)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'server-watch-'));
  const started: Server[] = [];
  afterAll(async () => {
    for (const server of started) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const until = async <T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  };
  const runningPid = (server: Server) => {
    const liveness = server.liveness();
    return liveness.state === 'running' ? liveness.pid : undefined;
  };
  const watch = (server: Server, events: SupervisorEvent[]) =>
    watchServers(
      [server],
      new Supervisor({ policy: { backoffBaseMs: 50, backoffCapMs: 200, crashWindowMs: 60_000, crashLimit: 2 }, onEvent: (e) => events.push(e) }),
      100,
    );

  it('when a Redis server is killed, then it is restarted on its port with a fresh pid, and a third kill within the window is a crash loop that is not restarted', async () => {
    const redis = new RedisServer('redis-w', await freePort(), path.join(dir, 'redis-w'));
    started.push(redis);
    await redis.start();
    const events: SupervisorEvent[] = [];
    const watcher = watch(redis, events);
    try {
      const pids = [runningPid(redis)!];
      for (const restart of [1, 2]) {
        process.kill(pids.at(-1)!, 'SIGKILL');
        await until(`restart ${restart}`, () => events.some((e) => e.kind === 'restarted' && e.restart === restart));
        pids.push(runningPid(redis)!);
        expect(await probe(redis.port, 'PING\r\n')).toMatch(/^\+PONG/);
      }
      expect(new Set(pids).size).toBe(3);
      expect(events.filter((e) => e.kind === 'crashed').map((e) => e.message)).toEqual([
        `supervisor: redis-w died (pid ${pids[0]} is gone); restart 1 in 50 ms`,
        `supervisor: redis-w died (pid ${pids[1]} is gone); restart 2 in 100 ms`,
      ]);

      process.kill(pids[2]!, 'SIGKILL');
      const gaveUp = await until('giving up', () => events.find((e) => e.kind === 'gave-up'));
      expect(gaveUp.message).toBe(`supervisor: redis-w crashed 3 times within 60 s (last: pid ${pids[2]} is gone); a crash loop, giving up`);
      await sleep(500);
      expect(redis.liveness()).toEqual({ state: 'dead', pid: pids[2] });
      expect(await portIsOpen(redis.port)).toBe(false);
    } finally {
      await watcher.stop();
    }
  });

  it('when a watched Redis server is stopped on purpose, then it is reported once, not restarted, and no process is left', async () => {
    const redis = new RedisServer('redis-s', await freePort(), path.join(dir, 'redis-s'));
    started.push(redis);
    await redis.start();
    const pid = runningPid(redis)!;
    const events: SupervisorEvent[] = [];
    const watcher = watch(redis, events);
    try {
      await redis.stop();
      await until('the stop to be reported', () => events.some((e) => e.kind === 'stopped'));
      await sleep(500);
      expect(events.map((e) => e.kind)).toEqual(['stopped']);
      expect(isAlive(pid)).toBe(false);
      expect(redis.liveness()).toEqual({ state: 'stopped' });
      expect(await portIsOpen(redis.port)).toBe(false);
    } finally {
      await watcher.stop();
    }
  });

  it('when a NATS server is killed, then it is restarted on its port with JetStream on, with a fresh pid', async () => {
    const nats = new NatsServer('nats-w', await freePort(), path.join(dir, 'nats-w'));
    started.push(nats);
    await nats.start();
    const events: SupervisorEvent[] = [];
    const watcher = watch(nats, events);
    try {
      const before = runningPid(nats)!;
      process.kill(before, 'SIGKILL');
      await until('the restart', () => events.some((e) => e.kind === 'restarted'));
      expect(runningPid(nats)).not.toBe(before);
      expect(await probe(nats.port)).toMatch(/^INFO .*"jetstream":true/);
      expect(events.map((e) => e.message)).toEqual([
        `supervisor: nats-w died (pid ${before} is gone); restart 1 in 50 ms`,
        'supervisor: nats-w is back (restart 1)',
      ]);
    } finally {
      await watcher.stop();
    }
  });

  it('when a MariaDB server is killed, then it is restarted on its data folder and port, and the committed rows are still there', async () => {
    const mariadb = new MariaDbServer('mariadb-w', await freePort(), path.join(dir, 'mariadb-w'));
    started.push(mariadb);
    await mariadb.start();
    const sql = (statements: string) =>
      execFileSync(
        'mariadb',
        ['--no-defaults', '-h', '127.0.0.1', '-P', String(mariadb.port), `-u${MYSQL_USER}`, `-p${MYSQL_PASSWORD}`, '-N', '-e', statements],
        { encoding: 'utf8' },
      ).trim();
    sql('CREATE DATABASE watched; CREATE TABLE watched.t (id INT PRIMARY KEY, note VARCHAR(20)); INSERT INTO watched.t VALUES (1, "kept")');
    const events: SupervisorEvent[] = [];
    const watcher = watch(mariadb, events);
    try {
      const before = runningPid(mariadb)!;
      process.kill(before, 'SIGKILL');
      await until('the restart', () => events.some((e) => e.kind === 'restarted'), 120_000);
      expect(runningPid(mariadb)).not.toBe(before);
      expect(sql('SELECT note FROM watched.t WHERE id = 1')).toBe('kept');
      expect(events.map((e) => e.kind)).toEqual(['crashed', 'restarted']);
    } finally {
      await watcher.stop();
    }
  });
});
