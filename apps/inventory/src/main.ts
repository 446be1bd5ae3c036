import { tracing } from './tracing'; // first: see tracing.ts
import { Lifecycle, runUntilSignal } from '@orderflow/service-kit';
import { createInventoryApp } from './app';
import { loadConfig } from './config';

const app = createInventoryApp(loadConfig());
// Tracing stops last: it exports the spans still buffered before the process exits.
runUntilSignal(new Lifecycle([tracing, app.lifecycle]), app.logger).catch((error: unknown) => {
  app.logger.fatal({ err: error }, 'inventory failed to start');
  process.exit(1);
});
