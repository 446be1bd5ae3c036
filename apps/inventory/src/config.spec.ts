import { ConfigError } from '@orderflow/service-kit';
import { loadConfig } from './config';

describe('inventory config', () => {
  it("when the defaults are used, then the lock wait ends before order-command's deadline for its calls", () => {
    const config = loadConfig({});
    expect(config.locks.waitMs).toBeLessThan(3_000); // order-command's INVENTORY_DEADLINE_MS default
  });

  it('when INVENTORY_LOCK_WAIT_MS is not shorter than INVENTORY_DEADLINE_MS, then start-up fails naming both', () => {
    expect(() => loadConfig({ INVENTORY_LOCK_WAIT_MS: '10000' })).toThrow(ConfigError);
    expect(() => loadConfig({ INVENTORY_LOCK_WAIT_MS: '10000' })).toThrow(
      /INVENTORY_LOCK_WAIT_MS \(10000 ms\) must be shorter than INVENTORY_DEADLINE_MS \(3000 ms\)/,
    );
    expect(() => loadConfig({ INVENTORY_LOCK_WAIT_MS: '10000', INVENTORY_DEADLINE_MS: '12000' })).not.toThrow();
  });
});
