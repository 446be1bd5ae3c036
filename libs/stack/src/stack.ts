import fs from 'node:fs';
import path from 'node:path';
import { ensurePackages } from './packages';
import { MYSQL_PASSWORD, MYSQL_USER, profileByName, StackProfile } from './profiles';
import { MariaDbServer, NatsServer, RedisServer, Server, ServerStatus } from './servers';
import { ServerWatch, watchServers } from './server-watch';
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
  log?: (line: string) => void;
}

// Debian installs the servers in /usr/sbin, which a plain user PATH may lack.
if (!(process.env.PATH ?? '').split(':').includes('/usr/sbin')) process.env.PATH = `${process.env.PATH ?? ''}:/usr/sbin`;

export function stackDir(profile: string): string {
  return path.join(workspaceRoot(), '.stack', profile);
}

function servers(profile: StackProfile, redisCount: number): Server[] {
  const dir = stackDir(profile.name);
  return [
    ...profile.mysqlPorts.map((port, i) => new MariaDbServer(`mariadb-${i}`, port, path.join(dir, `mariadb-${i}`))),
    ...profile.redisPorts.slice(0, redisCount).map((port, i) => new RedisServer(`redis-${i}`, port, path.join(dir, `redis-${i}`))),
    new NatsServer('nats', profile.natsPort, path.join(dir, 'nats')),
  ];
}

export function stackInfo(profileName = 'dev', redisCount = 1): StackInfo {
  const profile = profileByName(profileName);
  return {
    profile: profile.name,
    mysql: profile.mysqlPorts.map((port) => ({ host: '127.0.0.1', port, user: MYSQL_USER, password: MYSQL_PASSWORD })),
    redis: profile.redisPorts.slice(0, redisCount).map((port) => ({ host: '127.0.0.1', port })),
    nats: { servers: `127.0.0.1:${profile.natsPort}` },
  };
}

/** Starts whatever of the stack is not running yet. Safe to call when it is already up. */
export async function startStack(options: StackOptions = {}): Promise<StackInfo> {
  const log = options.log ?? console.log;
  const profile = profileByName(options.profile ?? 'dev');
  const redisCount = options.redisCount ?? 1;
  if (redisCount < 1 || redisCount > profile.redisPorts.length) throw new Error(`redis count must be 1..${profile.redisPorts.length}`);
  ensurePackages(log);
  fs.mkdirSync(stackDir(profile.name), { recursive: true });
  // Start them side by side: MariaDB's first boot dominates, the rest are quick.
  await Promise.all(
    servers(profile, redisCount).map(async (server) => {
      const outcome = await server.start();
      log(`${server.name.padEnd(10)} ${outcome.padEnd(16)} 127.0.0.1:${server.port}`);
    }),
  );
  return stackInfo(profile.name, redisCount);
}

/** Stops every server of the profile (all Redis masters, whatever count was started). */
export async function stopStack(options: Pick<StackOptions, 'profile' | 'log'> = {}): Promise<void> {
  const log = options.log ?? console.log;
  const profile = profileByName(options.profile ?? 'dev');
  const all = servers(profile, profile.redisPorts.length);
  await Promise.all(
    all.map(async (server) => {
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
export function watchStack(options: Pick<StackOptions, 'profile' | 'redisCount'> & SupervisorOptions & { intervalMs?: number } = {}): ServerWatch {
  const profile = profileByName(options.profile ?? 'dev');
  return watchServers(servers(profile, options.redisCount ?? 1), new Supervisor(options), options.intervalMs);
}

export async function stackStatus(profileName = 'dev'): Promise<ServerStatus[]> {
  const profile = profileByName(profileName);
  return Promise.all(servers(profile, profile.redisPorts.length).map((server) => server.status()));
}
