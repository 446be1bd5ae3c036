import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { MYSQL_PASSWORD, MYSQL_USER, stackCli, stackDir, stackStatus, stopStack } from '../src';
import { isAlive, portIsOpen } from '../src/processes';

/**
 * `npm run stack -- up --mariadb 3` and `down`, through the command itself, on the `spare` profile
 * (19306..; nothing else starts it), so the shared test stack is never touched. About 10 s on 2 cores.
 */
describe('a stack of three MariaDB servers (real processes, profile spare)', () => {
  const PROFILE = 'spare';
  const hadData = fs.existsSync(stackDir(PROFILE));
  const output: string[] = [];
  let logSpy: jest.SpyInstance;

  beforeAll(async () => {
    const running = (await stackStatus(PROFILE)).filter((s) => s.running).map((s) => s.name);
    if (running.length > 0) throw new Error(`the spare stack is in use (${running.join(', ')} running): stop it first (npm run stack -- down --profile spare)`);
    logSpy = jest.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
  });
  afterAll(async () => {
    logSpy.mockRestore();
    await stopStack({ profile: PROFILE, log: () => undefined });
    if (!hadData) fs.rmSync(stackDir(PROFILE), { recursive: true, force: true });
  });

  const port = (server: number) => 19_306 + server;
  const answeringPort = (server: number) =>
    execFileSync(
      'mariadb',
      ['--no-defaults', '-h', '127.0.0.1', '-P', String(port(server)), `-u${MYSQL_USER}`, `-p${MYSQL_PASSWORD}`, '-N', '-e', 'SELECT @@port'],
      { encoding: 'utf8' },
    ).trim();

  it('when up runs with --mariadb 3, then three servers answer on consecutive ports, and a later up for two leaves the third running', async () => {
    expect(await stackCli(['up', '--profile', PROFILE, '--mariadb', '3'])).toBe(0);
    expect(output.at(-1)).toBe('stack "spare" is up: MySQL 19306, 19307, 19308; Redis 19379; NATS 127.0.0.1:19222');
    expect([0, 1, 2].map(answeringPort)).toEqual(['19306', '19307', '19308']);

    expect(await stackCli(['up', '--profile', PROFILE])).toBe(0);
    expect(output.at(-1)).toBe('stack "spare" is up: MySQL 19306, 19307; Redis 19379; NATS 127.0.0.1:19222');
    const status = await stackStatus(PROFILE);
    expect(status.filter((s) => s.name.startsWith('mariadb')).map((s) => [s.name, s.port, s.running])).toEqual([
      ['mariadb-0', 19_306, true],
      ['mariadb-1', 19_307, true],
      ['mariadb-2', 19_308, true],
    ]);
    expect(answeringPort(2)).toBe('19308');
  });

  it('when down runs without a count, then every server of the profile stops, the third too, and status reports nothing running', async () => {
    const pids = (await stackStatus(PROFILE)).filter((s) => s.running).map((s) => s.pid!);
    expect(pids).toHaveLength(5); // three MariaDB, one Redis, NATS
    expect(await stackCli(['down', '--profile', PROFILE])).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    for (const server of [0, 1, 2]) expect(await portIsOpen(port(server))).toBe(false);
    expect(await stackCli(['status', '--profile', PROFILE])).toBe(3);
    expect(output.filter((line) => line.startsWith('mariadb-2'))).toContain('mariadb-2  stopped  port 19308');
  });
});
