import { startStack, stackStatus, stopStack } from './stack';

const USAGE = `usage: npm run stack -- <up|down|status> [--profile dev|test|chaos] [--redis 1|3]
  up      install missing Debian packages, start MariaDB x2, Redis and NATS (JetStream); idempotent
  down    stop every server of the profile
  status  show each server, its port and pid`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function stackCli(args: string[]): Promise<number> {
  const [command] = args;
  const profile = option(args, '--profile') ?? 'dev';
  switch (command) {
    case 'up': {
      const redisCount = Number(option(args, '--redis') ?? '1');
      const info = await startStack({ profile, redisCount });
      console.log(
        `stack "${profile}" is up: MySQL ${info.mysql.map((m) => m.port).join(', ')}; Redis ${info.redis.map((r) => r.port).join(', ')}; NATS ${info.nats.servers}`,
      );
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
