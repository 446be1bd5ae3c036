import { FREE_PORTS_FROM } from './ports';

/**
 * Port layouts. `dev` serves `npm start`; `test` is what `npm test` starts, on other ports, so a
 * running dev stack and a test run never share data; `chaos` is what `npm run chaos` starts (it kills
 * its servers on purpose, so never those of another profile); `spare` is started by nothing but the
 * stack's own integration spec and whoever wants a stack to try things on. Each profile keeps its data
 * in .stack/<profile>/.
 */
export interface StackProfile {
  name: string;
  /** The first MariaDB server's port; server i listens on `mysqlPort + i` (mariadbPorts). */
  mysqlPort: number;
  redisPorts: number[];
  natsPort: number;
}

export const PROFILES: Record<string, StackProfile> = {
  dev: { name: 'dev', mysqlPort: 13306, redisPorts: [16379, 16380, 16381], natsPort: 14222 },
  test: { name: 'test', mysqlPort: 23306, redisPorts: [26379, 26380, 26381], natsPort: 24222 },
  chaos: { name: 'chaos', mysqlPort: 18306, redisPorts: [18379, 18380, 18381], natsPort: 18222 },
  spare: { name: 'spare', mysqlPort: 19306, redisPorts: [19379, 19380, 19381], natsPort: 19222 },
};

/** MariaDB servers a stack runs unless told otherwise: the four shards of each set live on two. */
export const DEFAULT_MARIADB_COUNT = 2;
/** A local stack's ceiling: each server costs a few hundred MB (docs: README, "Local stack"); a move needs one more. */
export const MAX_MARIADB_COUNT = 8;

export function profileByName(name: string): StackProfile {
  const profile = PROFILES[name];
  if (!profile) throw new Error(`unknown stack profile "${name}" (known: ${Object.keys(PROFILES).join(', ')})`);
  return profile;
}

/**
 * Every port some server of a profile is fixed on, with who holds it (`chaos redis-0`): Redis, NATS and
 * the whole MariaDB range a profile may grow to. A profile's own MariaDB range is left out when given.
 */
export function fixedPorts(profiles: readonly StackProfile[] = Object.values(PROFILES), except?: StackProfile): Map<number, string> {
  const taken = new Map<number, string>();
  for (const profile of profiles) {
    profile.redisPorts.forEach((port, i) => taken.set(port, `${profile.name} redis-${i}`));
    taken.set(profile.natsPort, `${profile.name} nats`);
    if (profile.name === except?.name) continue;
    for (let i = 0; i < MAX_MARIADB_COUNT; i++) taken.set(profile.mysqlPort + i, `${profile.name} mariadb-${i}`);
  }
  return taken;
}

/**
 * The ports of a profile's `count` MariaDB servers: consecutive from its first. Refused, naming the
 * clash, when the count is not 2..MAX_MARIADB_COUNT or a port would be one another server of any profile
 * is fixed on, or one freePort hands out to tests (from FREE_PORTS_FROM up).
 */
export function mariadbPorts(profile: StackProfile, count: number = DEFAULT_MARIADB_COUNT, profiles?: readonly StackProfile[]): number[] {
  if (!Number.isInteger(count) || count < DEFAULT_MARIADB_COUNT || count > MAX_MARIADB_COUNT) {
    throw new Error(`the MariaDB count must be a whole number from ${DEFAULT_MARIADB_COUNT} to ${MAX_MARIADB_COUNT} (got ${count})`);
  }
  const taken = fixedPorts(profiles, profile);
  const ports = Array.from({ length: count }, (_, i) => profile.mysqlPort + i);
  for (const [i, port] of ports.entries()) {
    const holder = taken.get(port);
    if (holder) throw new Error(`${profile.name} mariadb-${i} would listen on ${port}, the port of ${holder}`);
    if (port >= FREE_PORTS_FROM)
      throw new Error(`${profile.name} mariadb-${i} would listen on ${port}, in the range free ports are handed out from (${FREE_PORTS_FROM} up)`);
  }
  return ports;
}

/** Dev credentials for the MySQL user the stack creates. Documented in README; never for production. */
export const MYSQL_USER = 'orderflow';
export const MYSQL_PASSWORD = 'orderflow';
