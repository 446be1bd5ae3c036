import { runUntilSignal } from '@orderflow/service-kit';
import { createOrderQueryApp } from './app';
import { loadConfig } from './config';

const app = createOrderQueryApp(loadConfig());
runUntilSignal(app.lifecycle, app.logger).catch((error: unknown) => {
  app.logger.fatal({ err: error }, 'order-query failed to start');
  process.exit(1);
});
