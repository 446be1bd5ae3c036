import { ConfigError } from '@orderflow/service-kit';
import { loadConfig } from './config';

describe('gateway config', () => {
  it('when READ_YOUR_WRITES_WAIT_MS is not shorter than DOWNSTREAM_DEADLINE_MS, then start-up fails naming both', () => {
    expect(() => loadConfig({})).not.toThrow();
    expect(() => loadConfig({ DOWNSTREAM_DEADLINE_MS: '500' })).toThrow(ConfigError);
    expect(() => loadConfig({ DOWNSTREAM_DEADLINE_MS: '500' })).toThrow(
      /READ_YOUR_WRITES_WAIT_MS \(500 ms\) must be shorter than DOWNSTREAM_DEADLINE_MS \(500 ms\)/,
    );
  });

  it('when placement gathering is not set, then a lone placement goes at once and up to 128 go together; out-of-range values fail start-up naming the variable', () => {
    expect(loadConfig({}).downstream.placeOrderBatch).toEqual({ lingerMs: 0, maxEntries: 128 });
    expect(loadConfig({ ORDER_COMMAND_BATCH_LINGER_MS: '2', ORDER_COMMAND_BATCH_MAX: '1' }).downstream.placeOrderBatch).toEqual({ lingerMs: 2, maxEntries: 1 });
    expect(() => loadConfig({ ORDER_COMMAND_BATCH_LINGER_MS: '21' })).toThrow(/ORDER_COMMAND_BATCH_LINGER_MS/);
    expect(() => loadConfig({ ORDER_COMMAND_BATCH_LINGER_MS: '-1' })).toThrow(/ORDER_COMMAND_BATCH_LINGER_MS/);
    expect(() => loadConfig({ ORDER_COMMAND_BATCH_MAX: '0' })).toThrow(/ORDER_COMMAND_BATCH_MAX/);
    expect(() => loadConfig({ ORDER_COMMAND_BATCH_MAX: 'many' })).toThrow(/ORDER_COMMAND_BATCH_MAX/);
  });

  it('when MAX_ITEMS makes placements large, then fewer go in one call by default, and more than fit in a 4 MiB message fail start-up naming both variables', () => {
    expect(loadConfig({ MAX_ITEMS: '50' }).downstream.placeOrderBatch.maxEntries).toBe(128);
    const fit = loadConfig({ MAX_ITEMS: '500' }).downstream.placeOrderBatch.maxEntries;
    expect(fit).toBeGreaterThan(1);
    expect(fit).toBeLessThan(128);
    expect(loadConfig({ MAX_ITEMS: '500', ORDER_COMMAND_BATCH_MAX: String(fit) }).downstream.placeOrderBatch.maxEntries).toBe(fit);
    expect(() => loadConfig({ MAX_ITEMS: '500', ORDER_COMMAND_BATCH_MAX: String(fit + 1) })).toThrow(
      new RegExp(`ORDER_COMMAND_BATCH_MAX \\(${fit + 1}\\) must be at most ${fit}: .*MAX_ITEMS \\(500\\)`),
    );
    expect(() => loadConfig({ ORDER_COMMAND_BATCH_MAX: '1000' })).toThrow(/ORDER_COMMAND_BATCH_MAX \(1000\) must be at most/);
  });
});
