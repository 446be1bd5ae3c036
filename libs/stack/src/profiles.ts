/**
 * Port layouts. `dev` serves `npm start`; `test` is what `npm test` starts, on other ports, so a
 * running dev stack and a test run never share data; `chaos` is what `npm run chaos` starts (it kills
 * its servers on purpose, so never those of another profile). Each profile keeps its data in
 * .stack/<profile>/.
 */
export interface StackProfile {
  name: string;
  mysqlPorts: number[];
  redisPorts: number[];
  natsPort: number;
}

export const PROFILES: Record<string, StackProfile> = {
  dev: { name: 'dev', mysqlPorts: [13306, 13307], redisPorts: [16379, 16380, 16381], natsPort: 14222 },
  test: { name: 'test', mysqlPorts: [23306, 23307], redisPorts: [26379, 26380, 26381], natsPort: 24222 },
  chaos: { name: 'chaos', mysqlPorts: [18306, 18307], redisPorts: [18379, 18380, 18381], natsPort: 18222 },
};

export function profileByName(name: string): StackProfile {
  const profile = PROFILES[name];
  if (!profile) throw new Error(`unknown stack profile "${name}" (known: ${Object.keys(PROFILES).join(', ')})`);
  return profile;
}

/** Dev credentials for the MySQL user the stack creates. Documented in README; never for production. */
export const MYSQL_USER = 'orderflow';
export const MYSQL_PASSWORD = 'orderflow';
