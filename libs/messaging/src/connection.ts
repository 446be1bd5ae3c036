import { connect, NatsConnection } from 'nats';

export interface NatsConnectionOptions {
  /** "host:port", or several separated by commas (a cluster). */
  servers: string;
  /** Shown by the server (connz) and in its logs: the service's name. */
  name: string;
  /** Pause between reconnect attempts to one server. */
  reconnectTimeWaitMs?: number;
  /** How long the first connect may take. */
  timeoutMs?: number;
}

export function parseServers(servers: string): string[] {
  const list = servers
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw new Error('NATS servers: expected "host:port[,host:port...]"');
  return list;
}

/**
 * Connects, then reconnects forever: a NATS outage must never end a service; publishers fail (and
 * retry) meanwhile. The first connect still fails fast, so a wrong address shows at start.
 */
export function connectNats(options: NatsConnectionOptions): Promise<NatsConnection> {
  return connect({
    servers: parseServers(options.servers),
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? 1_000,
    timeout: options.timeoutMs ?? 5_000,
    // A half-open connection (no RST) is noticed after about 30 s instead of the default 4 minutes.
    pingInterval: 10_000,
    maxPingOut: 3,
    // No stack captured per request (every JetStream publish is one): a measurable share of the relay's CPU.
    noAsyncTraces: true,
  });
}
