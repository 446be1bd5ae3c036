/** A network address one service is configured to reach, and the variable that says so. */
export interface Endpoint {
  variable: string;
  host: string;
  port: number;
}

const HOST_PORT = /^([^:/\s]+):(\d{1,5})$/;

function hostPort(variable: string, entry: string): Endpoint {
  const match = HOST_PORT.exec(entry.trim().replace(/^(nats:\/\/|dns:\/\/\/)/, ''));
  if (!match) throw new Error(`${variable}: "${entry}" is not host:port`);
  return { variable, host: match[1] as string, port: Number(match[2]) };
}

/**
 * Every address in a service's environment, read the way the services' config.ts files read them:
 * *_ADDRESS (host:port, or dns:///host:port: every replica behind a name), INVENTORY_REDIS and NATS_SERVERS (comma-separated host:port), ORDER_SHARDS and
 * READ_SHARDS (comma-separated host:port/database), INVENTORY_MYSQL_HOST with INVENTORY_MYSQL_PORT.
 */
export function endpointsOf(env: Record<string, string>): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (variable.endsWith('_ADDRESS')) endpoints.push(hostPort(variable, value));
    else if (variable === 'INVENTORY_REDIS' || variable === 'NATS_SERVERS') endpoints.push(...value.split(',').map((e) => hostPort(variable, e)));
    else if (variable === 'ORDER_SHARDS' || variable === 'READ_SHARDS') {
      for (const entry of value.split(',')) {
        const [address, database] = entry.trim().split('/');
        if (!database || !/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`${variable}: "${entry}" is not host:port/database`);
        endpoints.push(hostPort(variable, address ?? ''));
      }
    }
  }
  if (env.INVENTORY_MYSQL_HOST !== undefined) {
    endpoints.push({ variable: 'INVENTORY_MYSQL_HOST', host: env.INVENTORY_MYSQL_HOST, port: Number(env.INVENTORY_MYSQL_PORT ?? 13306) });
  }
  return endpoints;
}

/** The databases of ORDER_SHARDS / READ_SHARDS, in shard order, with their host. */
export function shardsOf(value: string): { host: string; database: string }[] {
  return value.split(',').map((entry) => {
    const [address = '', database = ''] = entry.trim().split('/');
    return { host: address.split(':')[0] ?? '', database };
  });
}
