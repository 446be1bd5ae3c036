// A command for stack-guard.integration.spec.ts: guards one Redis server (argv: its folder, its port,
// how main ends: `ok`, `fail`, `wait` for a signal, or `slow`: wait, and take 30 s to clean up), starts it,
// prints READY, and leaves through runCommand.
import { runCommand } from '../src/command';
import { RedisServer } from '../src/servers';
import { guardServers } from '../src/stack-guard';

const [dir, port, ending] = process.argv.slice(2) as [string, string, 'ok' | 'fail' | 'wait' | 'slow'];
const redis = new RedisServer('redis-cmd', Number(port), dir);
const guard = guardServers(
  () => [redis],
  (line) => console.log(line),
);

runCommand(
  async () => {
    await redis.start();
    console.log('READY');
    if (ending === 'fail') throw new Error('the run failed');
    if (ending === 'wait' || ending === 'slow') await new Promise(() => setInterval(() => undefined, 60_000));
  },
  async () => {
    if (ending === 'slow') await new Promise((resolve) => setTimeout(resolve, 30_000));
    return guard.restore();
  },
);
