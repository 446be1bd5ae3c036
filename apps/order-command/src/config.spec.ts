import { ConfigError } from '@orderflow/service-kit';
import { loadConfig } from './config';

describe('order-command config', () => {
  it('when no roles are given, then the process runs the API, the relay and the sweeper', () => {
    expect(loadConfig({}).roles).toEqual(['api', 'relay', 'sweeper']);
  });

  it('when roles are listed, then exactly those run, once each', () => {
    expect(loadConfig({ ORDER_COMMAND_ROLES: ' relay, relay ' }).roles).toEqual(['relay']);
    expect(loadConfig({ ORDER_COMMAND_ROLES: 'api,sweeper' }).roles).toEqual(['api', 'sweeper']);
  });

  it('when a role is unknown or none is given, then start-up fails naming the variable', () => {
    expect(() => loadConfig({ ORDER_COMMAND_ROLES: 'api,worker' })).toThrow(ConfigError);
    expect(() => loadConfig({ ORDER_COMMAND_ROLES: 'api,worker' })).toThrow(/ORDER_COMMAND_ROLES.*unknown: worker/);
    expect(() => loadConfig({ ORDER_COMMAND_ROLES: ' , ' })).toThrow(/ORDER_COMMAND_ROLES/);
  });

  it('when the defaults are used, then every inner wait is shorter than the deadline of the call it serves', () => {
    const config = loadConfig({});
    expect(config.idempotencyWaitMs).toBeLessThan(5_000); // the gateway's DOWNSTREAM_DEADLINE_MS default
    expect(config.inventory.deadlineMs).toBeLessThan(5_000);
  });

  it('when IDEMPOTENCY_WAIT_MS is not shorter than the gateway\'s DOWNSTREAM_DEADLINE_MS, then start-up fails naming both', () => {
    expect(() => loadConfig({ IDEMPOTENCY_WAIT_MS: '5000', DOWNSTREAM_DEADLINE_MS: '5000' })).toThrow(ConfigError);
    expect(() => loadConfig({ IDEMPOTENCY_WAIT_MS: '5000', DOWNSTREAM_DEADLINE_MS: '5000' })).toThrow(/IDEMPOTENCY_WAIT_MS \(5000 ms\) must be shorter than DOWNSTREAM_DEADLINE_MS \(5000 ms\)/);
    expect(() => loadConfig({ IDEMPOTENCY_WAIT_MS: '5000', DOWNSTREAM_DEADLINE_MS: '8000' })).not.toThrow();
  });

  it('when INVENTORY_DEADLINE_MS outlasts the gateway\'s deadline or PENDING_TIMEOUT_MS, then start-up fails naming both', () => {
    expect(() => loadConfig({ INVENTORY_DEADLINE_MS: '6000' })).toThrow(/INVENTORY_DEADLINE_MS \(6000 ms\) must be shorter than DOWNSTREAM_DEADLINE_MS \(5000 ms\)/);
    expect(() => loadConfig({ INVENTORY_DEADLINE_MS: '3000', PENDING_TIMEOUT_MS: '2000' })).toThrow(/INVENTORY_DEADLINE_MS \(3000 ms\) must be shorter than PENDING_TIMEOUT_MS \(2000 ms\)/);
  });
});
