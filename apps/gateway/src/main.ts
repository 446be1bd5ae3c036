import { tracing } from './tracing'; // first: see tracing.ts
import cluster from 'node:cluster';
import { createLogger, Lifecycle, runUntilSignal } from '@orderflow/service-kit';
import { createGateway } from './app';
import { loadConfig } from './config';
import { runWorkers } from './workers';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('gateway', config.logLevel);
  if (config.workers > 1 && cluster.isPrimary) return runWorkers(config.workers, logger);
  const gateway = await createGateway(config);
  // Tracing stops last: it exports the spans still buffered before the process exits.
  await runUntilSignal(new Lifecycle([tracing, gateway]), logger);
  logger.info({ url: `http://${config.http.host}:${gateway.port}`, docs: `http://${config.http.host}:${gateway.port}/docs` }, 'gateway listening');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
