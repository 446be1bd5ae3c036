// npm run dead-letters -- list | replay --id N [--id M ...] | replay --all
// Lists order-query's dead-lettered events, or replays them to their original subjects once their
// cause is fixed. Reads the same settings as order-query (NATS_SERVERS, ORDERS_STREAM, DEAD_LETTER_STREAM).
import { connectNats } from '@orderflow/messaging';
import { loadConfig } from '../../apps/order-query/src/config';
import { DeadLetterQueue, formatDeadLetters } from '../../apps/order-query/src/infrastructure/nats/dead-letter.queue';

const USAGE = 'usage: npm run dead-letters -- list | replay --id N [--id M ...] | replay --all';

function parse(args: string[]): { command: 'list' } | { command: 'replay'; ids: number[] | 'all' } {
  const [command, ...rest] = args;
  if (command === 'list' && rest.length === 0) return { command };
  if (command !== 'replay') throw new Error(USAGE);
  if (rest.length === 1 && rest[0] === '--all') return { command, ids: 'all' };
  const ids: number[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const value = rest[i] === '--id' ? Number(rest[i + 1]) : NaN;
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(USAGE);
    ids.push(value);
  }
  if (ids.length === 0) throw new Error(USAGE);
  return { command, ids };
}

async function main(): Promise<number> {
  let request: ReturnType<typeof parse>;
  try {
    request = parse(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const config = loadConfig();
  const nc = await connectNats({ servers: config.nats.servers, name: 'dead-letters' });
  try {
    const queue = new DeadLetterQueue(nc, { deadLetterStream: config.nats.deadLetterStream, ordersStream: config.nats.stream });
    if (request.command === 'list') {
      console.log(formatDeadLetters(await queue.list()));
      return 0;
    }
    const results = request.ids === 'all' ? await queue.replayAll() : await queue.replay(request.ids);
    for (const r of results)
      console.log(
        r.error ? `dead letter ${r.id}: NOT replayed: ${r.error}` : `dead letter ${r.id}: replayed to ${config.nats.stream} as sequence ${r.sequence}, removed`,
      );
    if (results.length === 0) console.log('no dead letters');
    return results.some((r) => r.error) ? 1 : 0;
  } finally {
    await nc.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
