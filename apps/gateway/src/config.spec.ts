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
});
