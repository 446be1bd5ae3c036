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
});
