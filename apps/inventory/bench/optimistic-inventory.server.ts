/**
 * The inventory service with the `optimistic` reserve baseline (optimistic-reserve.ts) in place of its
 * own Reserve; everything else as src/main.ts runs it, in the locked mode (nothing batches). Started by
 * `npm run bench:inventory` for its `optimistic` lines; never served by the system.
 *   tsx apps/inventory/bench/optimistic-inventory.server.ts   (the INVENTORY_* variables as for src/main.ts)
 */
import { runUntilSignal } from '@orderflow/service-kit';
import { createInventoryApp } from '../src/app';
import { loadConfig } from '../src/config';
import { optimisticReserve } from './optimistic-reserve';

const app = createInventoryApp(loadConfig({ ...process.env, INVENTORY_RESERVE_MODE: 'locked' }), { decorateUseCases: optimisticReserve });
runUntilSignal(app.lifecycle, app.logger).catch((error: unknown) => {
  app.logger.fatal({ err: error }, 'inventory (optimistic baseline) failed to start');
  process.exit(1);
});
