import { runUntilSignal } from '@orderflow/service-kit';
import { createInventoryApp } from './app';
import { loadConfig } from './config';

const app = createInventoryApp(loadConfig());
runUntilSignal(app.lifecycle, app.logger).catch((error: unknown) => {
  app.logger.fatal({ err: error }, 'inventory failed to start');
  process.exit(1);
});
