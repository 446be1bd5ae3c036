/**
 * `npm run shards -- status | plan | move --buckets A-B --to S | verify | abort [options]`: the live shard
 * maps and online bucket moves (ADR 0009; tools/shards). `npm run shards -- help` lists the options.
 * Ctrl-C stops a move between two steps; the same command resumes it.
 */
import { shardsCli } from '@orderflow/shards';

const controller = new AbortController();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.log(`\n${signal}: stopping after the current step (again to exit now)`);
    controller.abort();
  });
}

let progressShown = false;
const endProgress = () => {
  if (progressShown) process.stdout.write('\n');
  progressShown = false;
};

shardsCli(process.argv.slice(2), {
  out: (line) => {
    endProgress();
    console.log(line);
  },
  progress: process.stdout.isTTY
    ? (line) => {
        process.stdout.write(`\r${line.slice(0, (process.stdout.columns || 160) - 1)}\x1b[K`);
        progressShown = true;
      }
    : undefined,
  signal: controller.signal,
}).then(
  (code) => {
    endProgress();
    process.exit(code);
  },
  (error: unknown) => {
    endProgress();
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
