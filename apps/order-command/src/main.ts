import { runUntilSignal } from '@orderflow/service-kit';
import { createOrderCommandApp } from './app';
import { loadConfig } from './config';

const app = createOrderCommandApp(loadConfig());
runUntilSignal(app.lifecycle, app.logger).catch((error: unknown) => {
  app.logger.fatal({ err: error }, 'order-command failed to start');
  process.exit(1);
});
