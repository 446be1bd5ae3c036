import { DEFAULT_MARIADB_COUNT, MAX_MARIADB_COUNT, PROFILES } from './profiles';
import { startStack, stackStatus, stopStack } from './stack';

const USAGE = `usage: npm run stack -- <up|down|status> [--profile ${Object.keys(PROFILES).join('|')}] [--redis 1|3] [--mariadb N]
  up      install missing Debian packages, start MariaDB x N (default ${DEFAULT_MARIADB_COUNT}, up to ${MAX_MARIADB_COUNT}, on consecutive
          ports from the profile's first), Redis and NATS (JetStream); idempotent: what runs is left running
  down    stop every server of the profile (every MariaDB it has data for, whatever N started it)
  status  show each server, its port and pid`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A whole-number option; a missing value or a word is refused rather than read as NaN. */
function count(args: string[], name: string, fallback: number): number {
  const raw = option(args, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) throw new Error(`${name} takes a whole number (got "${raw}")`);
  return value;
}

export async function stackCli(args: string[]): Promise<number> {
  const [command] = args;
  const profile = option(args, '--profile') ?? 'dev';
  switch (command) {
    case 'up': {
      const redisCount = count(args, '--redis', 1);
      const mariadbCount = count(args, '--mariadb', DEFAULT_MARIADB_COUNT);
      const info = await startStack({ profile, redisCount, mariadbCount });
      const mysqlPorts = info.mysql.map((m) => m.port).join(', ');
      const redisPorts = info.redis.map((r) => r.port).join(', ');
      console.log(`stack "${profile}" is up: MySQL ${mysqlPorts}; Redis ${redisPorts}; NATS ${info.nats.servers}`);
      return 0;
    }
    case 'down':
      await stopStack({ profile });
      console.log(`stack "${profile}" is down`);
      return 0;
    case 'status': {
      const status = await stackStatus(profile);
      for (const s of status)
        console.log(`${s.name.padEnd(10)} ${(s.running ? 'running' : 'stopped').padEnd(8)} port ${s.port}${s.pid ? `  pid ${s.pid}` : ''}`);
      return status.some((s) => s.running) ? 0 : 3;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}
