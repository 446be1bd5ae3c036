import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../src';
import { portIsOpen } from '../src/processes';
import { RedisServer, Server } from '../src/servers';
import { guardServers } from '../src/stack-guard';

const root = path.resolve(__dirname, '..', '..', '..');
const loader = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** Redis servers of this spec's own, on free ports in a temporary folder: the shared test stack is never touched. */
describe('a command leaves the servers as it found them (real Redis processes of our own)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-guard-'));
  const servers: Server[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when a command starts the servers that were not running, then restore stops those and leaves the one that was running', async () => {
    const [running, notRunning, neverStarted] = await Promise.all(
      ['redis-a', 'redis-b', 'redis-c'].map(async (name) => new RedisServer(name, await freePort(), path.join(dir, name))),
    );
    servers.push(running!, notRunning!, neverStarted!);
    await running!.start(); // what `npm start` would have left running
    const log: string[] = [];
    const guard = guardServers(
      () => servers,
      (line) => log.push(line),
    );
    expect([...guard.foundRunning]).toEqual(['redis-a']);

    expect(await running!.start()).toBe('already running'); // the command starts what it needs
    expect(await notRunning!.start()).toBe('started');
    const [first, second] = await Promise.all([guard.restore(), guard.restore()]); // Ctrl-C during the end of the run

    expect(first).toEqual(['redis-b']);
    expect(second).toBe(first);
    expect(log).toEqual(['stopped what this command started: redis-b']);
    expect(notRunning!.liveness()).toEqual({ state: 'stopped' });
    expect(await portIsOpen(notRunning!.port)).toBe(false);
    expect(running!.liveness().state).toBe('running');
    expect(await portIsOpen(running!.port)).toBe(true);
    expect(neverStarted!.liveness()).toEqual({ state: 'stopped' });
  });

  it('when nothing was started, then restore stops nothing', async () => {
    const guard = guardServers(() => servers);
    expect(await guard.restore()).toEqual([]);
  });
});

/** Runs command-fixture.ts on `redis`'s folder and port; sends SIGINT once it is READY when `ending` is wait or slow (twice when slow). */
async function command(redis: RedisServer, dir: string, ending: 'ok' | 'fail' | 'wait' | 'slow'): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', loader, path.join(__dirname, 'command-fixture.ts'), dir, String(redis.port), ending], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let interrupts = 0;
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (ending === 'wait' || ending === 'slow') {
      if (interrupts === 0 && output.includes('READY')) interrupts += Number(child.kill('SIGINT'));
      // A second Ctrl-C while the slow clean-up runs.
      if (ending === 'slow' && interrupts === 1 && output.includes('stopping what this command started')) interrupts += Number(child.kill('SIGINT'));
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

describe('a command run through runCommand (a real process guarding a real Redis)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-command-'));
  const ownServers: RedisServer[] = [];
  afterAll(async () => {
    for (const server of ownServers) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const redisOf = async (name: string) => {
    const server = new RedisServer('redis-cmd', await freePort(), path.join(dir, name));
    ownServers.push(server);
    return server;
  };

  it.each([
    ['it ends', 'ok', 0],
    ['it fails', 'fail', 1],
    ['Ctrl-C stops it', 'wait', 130],
  ] as const)(
    'when %s, then the server it started is stopped before it exits (code %s)',
    async (_what, ending, exitCode) => {
      const redis = await redisOf(ending);
      const { code, output } = await command(redis, path.join(dir, ending), ending);
      expect(output).toContain('READY');
      expect(output).toContain('stopped what this command started: redis-cmd');
      expect(code).toBe(exitCode);
      expect(redis.liveness()).toEqual({ state: 'stopped' });
      expect(await portIsOpen(redis.port)).toBe(false);
    },
    60_000,
  );

  it('when Ctrl-C comes again during a slow clean-up, then the command exits at once, leaving the server running', async () => {
    const redis = await redisOf('slow');
    const started = Date.now();
    const { code, output } = await command(redis, path.join(dir, 'slow'), 'slow');
    expect(code).toBe(130);
    expect(output).toContain('SIGINT again: exiting now');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(redis.liveness().state).toBe('running'); // afterAll stops it
  }, 60_000);

  it('when the server was running before the command, then Ctrl-C leaves it running', async () => {
    const redis = await redisOf('running');
    await redis.start();
    const { code, output } = await command(redis, path.join(dir, 'running'), 'wait');
    expect(code).toBe(130);
    expect(output).not.toContain('stopped what this command started');
    expect(redis.liveness().state).toBe('running');
    expect(await portIsOpen(redis.port)).toBe(true);
  }, 60_000);
});
