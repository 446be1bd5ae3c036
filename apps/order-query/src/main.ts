import { tracing } from './tracing'; // first: see tracing.ts
import { Lifecycle, runUntilSignal } from '@orderflow/service-kit';
import { createOrderQueryApp } from './app';
import { loadConfig } from './config';

const app = createOrderQueryApp(loadConfig());
// Tracing stops last: it exports the spans still buffered before the process exits.
runUntilSignal(new Lifecycle([tracing, app.lifecycle]), app.logger).catch((error: unknown) => {
  app.logger.fatal({ err: error }, 'order-query failed to start');
  process.exit(1);
});
