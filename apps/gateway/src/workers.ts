import cluster, { Worker } from 'node:cluster';
import type { Logger } from '@orderflow/service-kit';
import { answerMetricsRequests } from './infrastructure/cluster-metrics';

/** A worker that dies is forked again after 0.5 s, 1 s, 2 s... (at most 10 s); a 6th death within 60 s ends the primary. */
const RESTART = { baseMs: 500, capMs: 10_000, windowMs: 60_000, limit: 5 };

/**
 * Several gateway processes on one HTTP port (node:cluster, what `npm start -- --replicas N` runs): the
 * primary serves nothing itself. It forks the workers, forks again one that dies (new connections go to
 * the others meanwhile), and stops them all on SIGTERM or SIGINT, exiting when they have drained. Workers
 * dying in a loop end the primary with exit code 1, so whatever supervises it sees the failure.
 */
export function runWorkers(count: number, logger: Logger): void {
  let stopping = false;
  let deaths: number[] = [];
  const fork = () => cluster.fork();
  // /metrics on any worker answers for all of them (counters summed), so a scrape sees one gateway.
  answerMetricsRequests();
  const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (live().length === 0) process.exit(0);
      return;
    }
    const now = Date.now();
    deaths = [...deaths.filter((t) => now - t < RESTART.windowMs), now];
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (deaths.length > RESTART.limit) {
      logger.error({ pid: worker.process.pid, how, deaths: deaths.length }, 'gateway workers are in a crash loop: stopping');
      stopping = true;
      for (const w of live()) w.process.kill('SIGTERM');
      process.exitCode = 1;
      if (live().length === 0) process.exit(1);
      return;
    }
    const delayMs = Math.min(RESTART.capMs, RESTART.baseMs * 2 ** (deaths.length - 1));
    logger.warn({ pid: worker.process.pid, how, restart: deaths.length, delayMs }, 'gateway worker died: forking another');
    setTimeout(() => stopping || fork(), delayMs);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: live().length }, 'stopping the gateway workers');
    // Each drains as a single gateway does (Ctrl-C reaches them through the process group as well).
    for (const w of live()) w.process.kill('SIGTERM');
    if (live().length === 0) process.exit(process.exitCode ?? 0);
    setTimeout(() => process.exit(1), 30_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  for (let i = 0; i < count; i++) fork();
}
