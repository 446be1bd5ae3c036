import { ALL_FAULTS, parseFaults } from './faults';

describe('parseFaults', () => {
  it('when no list or "all" is given, then every kill -9 comes first, then every graceful restart of a service', () => {
    expect(parseFaults(undefined)).toBe(ALL_FAULTS);
    expect(parseFaults('all').map((f) => f.name)).toEqual([
      'kill:gateway',
      'kill:orderCommand',
      'kill:orderRelay',
      'kill:inventory',
      'kill:orderQuery',
      'kill:mariadb',
      'kill:redis',
      'kill:nats',
      'term:gateway',
      'term:orderCommand',
      'term:orderRelay',
      'term:inventory',
      'term:orderQuery',
    ]);
  });

  it('when a list is given, then those faults come in its order', () => {
    expect(parseFaults(' kill:inventory, term:gateway ')).toEqual([
      { kind: 'kill', unit: 'inventory', name: 'kill:inventory' },
      { kind: 'term', unit: 'gateway', name: 'term:gateway' },
    ]);
  });

  it('when a fault is unknown (a server cannot be restarted gracefully here), then the error names the known ones', () => {
    expect(() => parseFaults('term:mariadb')).toThrow(/unknown fault "term:mariadb"; known: kill:gateway, /);
  });
});
