import { FREE_PORTS_FROM } from './ports';
import { DEFAULT_MARIADB_COUNT, fixedPorts, MAX_MARIADB_COUNT, mariadbPorts, PROFILES, StackProfile } from './profiles';

describe('mariadbPorts', () => {
  it('when no count is given, then a profile runs two servers on its first port and the next', () => {
    expect(mariadbPorts(PROFILES.dev!)).toEqual([13306, 13307]);
    expect(DEFAULT_MARIADB_COUNT).toBe(2);
  });

  it('when three are asked for, then they listen on consecutive ports from the profile first one (dev 13306.., test 23306.., chaos 18306..)', () => {
    expect(mariadbPorts(PROFILES.dev!, 3)).toEqual([13306, 13307, 13308]);
    expect(mariadbPorts(PROFILES.test!, 3)).toEqual([23306, 23307, 23308]);
    expect(mariadbPorts(PROFILES.chaos!, 3)).toEqual([18306, 18307, 18308]);
  });

  it('when every profile runs as many servers as allowed, then no port of one is a fixed port of another, and all lie below the free ports', () => {
    const owners = new Map<number, string>();
    for (const profile of Object.values(PROFILES)) {
      const ports = [...mariadbPorts(profile, MAX_MARIADB_COUNT), ...profile.redisPorts, profile.natsPort];
      for (const port of ports) {
        expect({ port, owner: owners.get(port) }).toEqual({ port, owner: undefined });
        owners.set(port, profile.name);
        expect(port).toBeLessThan(FREE_PORTS_FROM);
      }
    }
  });

  it('when the count is below two, above the ceiling or not a whole number, then it is refused', () => {
    for (const count of [0, 1, MAX_MARIADB_COUNT + 1, 2.5, Number.NaN]) {
      expect(() => mariadbPorts(PROFILES.dev!, count)).toThrow(`the MariaDB count must be a whole number from 2 to ${MAX_MARIADB_COUNT} (got ${count})`);
    }
  });

  describe('when a server would take a port that is fixed elsewhere', () => {
    const tight: StackProfile = { name: 'tight', mysqlPort: 20_300, redisPorts: [20_303], natsPort: 20_310 };
    const neighbour: StackProfile = { name: 'neighbour', mysqlPort: 20_305, redisPorts: [20_400], natsPort: 20_401 };
    const high: StackProfile = { name: 'high', mysqlPort: FREE_PORTS_FROM - 2, redisPorts: [21_000], natsPort: 21_001 };

    it('then its own Redis is named', () => {
      expect(mariadbPorts(tight, 3, [tight, neighbour])).toEqual([20_300, 20_301, 20_302]);
      expect(() => mariadbPorts(tight, 4, [tight, neighbour])).toThrow('tight mariadb-3 would listen on 20303, the port of tight redis-0');
    });

    it('then another profile MariaDB range is named', () => {
      const wide: StackProfile = { ...tight, redisPorts: [20_399] };
      expect(() => mariadbPorts(wide, 6, [wide, neighbour])).toThrow('tight mariadb-5 would listen on 20305, the port of neighbour mariadb-0');
    });

    it('then the range freePort hands out is refused', () => {
      expect(mariadbPorts(high, 2, [high])).toEqual([FREE_PORTS_FROM - 2, FREE_PORTS_FROM - 1]);
      expect(() => mariadbPorts(high, 3, [high])).toThrow(
        `high mariadb-2 would listen on ${FREE_PORTS_FROM}, in the range free ports are handed out from (${FREE_PORTS_FROM} up)`,
      );
    });
  });
});

describe('fixedPorts', () => {
  it('when listed, then every Redis, NATS and MariaDB port of every profile is named by its holder, a profile own MariaDB range left out on request', () => {
    const all = fixedPorts();
    expect(all.get(16_380)).toBe('dev redis-1');
    expect(all.get(24_222)).toBe('test nats');
    expect(all.get(18_306 + MAX_MARIADB_COUNT - 1)).toBe(`chaos mariadb-${MAX_MARIADB_COUNT - 1}`);
    const exceptDev = fixedPorts(undefined, PROFILES.dev);
    expect(exceptDev.get(13_306)).toBeUndefined();
    expect(exceptDev.get(16_379)).toBe('dev redis-0');
  });
});
