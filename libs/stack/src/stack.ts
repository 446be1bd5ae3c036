import fs from 'node:fs';
import path from 'node:path';
import { ensurePackages } from './packages';
import { DEFAULT_MARIADB_COUNT, mariadbPorts, MYSQL_PASSWORD, MYSQL_USER, profileByName, StackProfile } from './profiles';
import { MariaDbServer, NatsServer, RedisServer, Server, ServerStatus } from './servers';
import { ServerWatch, watchServers } from './server-watch';
import { guardServers, StackGuard } from './stack-guard';
import { Supervisor, SupervisorOptions } from './supervisor';
import { workspaceRoot } from './workspace';

export interface MysqlEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Where everything in a running stack listens: what services and tests are configured with. */
export interface StackInfo {
  profile: string;
  mysql: MysqlEndpoint[];
  redis: { host: string; port: number }[];
  nats: { servers: string };
}

export interface StackOptions {
  profile?: string;
  /** Independent Redis masters (1, or 3 for a Redlock quorum). */
  redisCount?: number;
  /** MariaDB servers, on consecutive ports from the profile's first (default 2; a third takes moved buckets). */
  mariadbCount?: number;
  log?: (line: string) => void;
}

// Debian installs the servers in /usr/sbin, which a plain user PATH may lack.
if (!(process.env.PATH ?? '').split(':').includes('/usr/sbin')) process.env.PATH = `${process.env.PATH ?? ''}:/usr/sbin`;

export function stackDir(profile: string): string {
  return path.join(workspaceRoot(), '.stack', profile);
}

const mariadb = (profile: StackProfile, i: number) =>
  new MariaDbServer(`mariadb-${i}`, profile.mysqlPort + i, path.join(stackDir(profile.name), `mariadb-${i}`));

function servers(profile: StackProfile, redisCount: number, mariadbCount: number): Server[] {
  const dir = stackDir(profile.name);
  return [
    ...mariadbPorts(profile, mariadbCount).map((_, i) => mariadb(profile, i)),
    ...profile.redisPorts.slice(0, redisCount).map((port, i) => new RedisServer(`redis-${i}`, port, path.join(dir, `redis-${i}`))),
    new NatsServer('nats', profile.natsPort, path.join(dir, 'nats')),
  ];
}

/**
 * How many MariaDB servers the profile has data for (never fewer than the default): a server started
 * once with `--mariadb 3` keeps its folder, so `down` and `status` reach it when a later `up` asked for two.
 */
export function knownMariaDbCount(profileName: string): number {
  const dir = stackDir(profileByName(profileName).name);
  const indexes = (fs.existsSync(dir) ? fs.readdirSync(dir) : []).flatMap((entry) => {
    const match = /^mariadb-(\d+)$/.exec(entry);
    return match ? [Number(match[1])] : [];
  });
  return Math.max(DEFAULT_MARIADB_COUNT, ...indexes.map((i) => i + 1));
}

/** Every server of the profile that may run: each MariaDB it has data for, all Redis masters, NATS. */
function everyServer(profile: StackProfile): Server[] {
  const dir = stackDir(profile.name);
  return [
    ...Array.from({ length: knownMariaDbCount(profile.name) }, (_, i) => mariadb(profile, i)),
    ...profile.redisPorts.map((port, i) => new RedisServer(`redis-${i}`, port, path.join(dir, `redis-${i}`))),
    new NatsServer('nats', profile.natsPort, path.join(dir, 'nats')),
  ];
}

export function stackInfo(profileName = 'dev', redisCount = 1, mariadbCount = DEFAULT_MARIADB_COUNT): StackInfo {
  const profile = profileByName(profileName);
  return {
    profile: profile.name,
    mysql: mariadbPorts(profile, mariadbCount).map((port) => ({ host: '127.0.0.1', port, user: MYSQL_USER, password: MYSQL_PASSWORD })),
    redis: profile.redisPorts.slice(0, redisCount).map((port) => ({ host: '127.0.0.1', port })),
    nats: { servers: `127.0.0.1:${profile.natsPort}` },
  };
}

/** Starts whatever of the stack is not running yet. Safe to call when it is already up. */
export async function startStack(options: StackOptions = {}): Promise<StackInfo> {
  const log = options.log ?? console.log;
  const profile = profileByName(options.profile ?? 'dev');
  const redisCount = options.redisCount ?? 1;
  const mariadbCount = options.mariadbCount ?? DEFAULT_MARIADB_COUNT;
  if (redisCount < 1 || redisCount > profile.redisPorts.length) throw new Error(`redis count must be 1..${profile.redisPorts.length}`);
  mariadbPorts(profile, mariadbCount); // refuses a count out of range or a port clash before anything starts
  ensurePackages(log);
  fs.mkdirSync(stackDir(profile.name), { recursive: true });
  // Start them side by side: MariaDB's first boot dominates, the rest are quick.
  await Promise.all(
    servers(profile, redisCount, mariadbCount).map(async (server) => {
      const outcome = await server.start();
      log(`${server.name.padEnd(10)} ${outcome.padEnd(16)} 127.0.0.1:${server.port}`);
    }),
  );
  return stackInfo(profile.name, redisCount, mariadbCount);
}

/** Stops every server of the profile (every MariaDB it has data for and all Redis masters, whatever counts were started). */
export async function stopStack(options: Pick<StackOptions, 'profile' | 'log'> = {}): Promise<void> {
  const log = options.log ?? console.log;
  const profile = profileByName(options.profile ?? 'dev');
  await Promise.all(
    everyServer(profile).map(async (server) => {
      const { running, pid } = await server.status();
      await server.stop();
      if (running || pid) log(`${server.name.padEnd(10)} stopped`);
    }),
  );
}

/**
 * Watches the servers of a started stack (`npm start`): a dead one is restarted on its data folder and
 * port, with the supervisor's backoff and crash-loop limit; one stopped on purpose is reported.
 */
export function watchStack(
  options: Pick<StackOptions, 'profile' | 'redisCount' | 'mariadbCount'> & SupervisorOptions & { intervalMs?: number } = {},
): ServerWatch {
  const profile = profileByName(options.profile ?? 'dev');
  return watchServers(servers(profile, options.redisCount ?? 1, options.mariadbCount ?? DEFAULT_MARIADB_COUNT), new Supervisor(options), options.intervalMs);
}

/** Each server of the profile that may run (every MariaDB it has data for), running or not. */
export async function stackStatus(profileName = 'dev'): Promise<ServerStatus[]> {
  return Promise.all(everyServer(profileByName(profileName)).map((server) => server.status()));
}

/**
 * For a command that starts a profile's servers when they are not running (`npm run bench`): remembers
 * which run now, before it starts any; `restore()` at its end (and on failure and Ctrl-C) stops those it
 * started and leaves those that were running (under `npm start` or `npm run stack -- up`).
 */
export function guardStack(profileName = 'dev', log?: (line: string) => void): StackGuard {
  const profile = profileByName(profileName);
  return guardServers(() => everyServer(profile), log);
}
