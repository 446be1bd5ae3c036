import { ChannelOptions, Client, ClientOptions } from '@grpc/grpc-js';

/** A gRPC channel's target and options for an address setting (see `grpcChannel`). */
export interface GrpcChannel {
  target: string;
  options: ChannelOptions;
}

/**
 * Options every gRPC channel and server here takes: channelz off. grpc-js keeps channelz on by default,
 * which costs every call counters, timestamps and a trace entry on the channel, subchannel and server
 * sockets; nothing here reads it (no channelz service is served).
 */
export const LEAN_GRPC_OPTIONS = { 'grpc.enable_channelz': 0 } as const satisfies ChannelOptions;

const IP_ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):\d+$/;

/**
 * Where a client connects, from an address setting: one address (`inventory:50052`), a DNS name that
 * resolves to every replica (`dns:///inventory:50052`, a Kubernetes headless service or a Compose
 * service with replicas), or a comma-separated list of IP addresses (`127.0.0.1:50052,127.0.0.1:50062`,
 * what `npm start -- --replicas 2` sets). Calls are spread round-robin over the addresses that are
 * ready; one that drops is skipped until it is back. Make one client per address per process (the
 * channel is its connection pool) and reuse it; another client on the same channel takes
 * `sharedChannel(client)`.
 */
export function grpcChannel(addresses: string, options: ChannelOptions = {}): GrpcChannel {
  return {
    target: channelTarget(addresses.trim()),
    options: {
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
      'grpc.keepalive_time_ms': 30_000,
      // A replica restarted after a crash is used again within a second or two (grpc-js's defaults back
      // off up to 120 s between reconnection attempts).
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2_000,
      ...LEAN_GRPC_OPTIONS,
      ...options,
    },
  };
}

/**
 * Options for another client on `client`'s channel (a health client beside a service's): no second
 * channel, resolver or connection for the same address. Closing either client closes the channel: close
 * the first one only.
 */
export function sharedChannel(client: Client): ClientOptions {
  return { channelOverride: client.getChannel() as ClientOptions['channelOverride'] };
}

function channelTarget(addresses: string): string {
  if (/^(dns|ipv4|ipv6|unix):/.test(addresses)) return addresses; // a gRPC target already
  const list = addresses
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (list.length === 0) throw new Error('no gRPC address given');
  if (list.length === 1) return list[0]!;
  const notIp = list.filter((a) => !IP_ADDRESS.test(a));
  if (notIp.length > 0)
    throw new Error(
      `a list of gRPC addresses must be IP:port (got ${notIp.join(', ')}); for names, give one DNS name that resolves to every replica (dns:///name:port)`,
    );
  return `${list.some((a) => a.startsWith('[')) ? 'ipv6' : 'ipv4'}:${list.join(',')}`;
}
/** How long a repeat waits for a ready connection after a cut-off. */
export const REPEAT_READY_WAIT_MS = 1_000;

/**
 * Makes a call; if it was cut off (`isCutOff`: the connection dropped or the process serving it died,
 * so its outcome is unknown) and the call is safe to repeat, makes it once more within the same
 * deadline, once the channel has a ready connection again (another replica, or the same service back)
 * within REPEAT_READY_WAIT_MS. If none is, the cut-off stands rather than holding the caller until its
 * deadline.
 */
export async function repeatIfCutOff<Res>(client: Client, deadline: Date, attempt: () => Promise<Res>, isCutOff: (error: unknown) => boolean): Promise<Res> {
  try {
    return await attempt();
  } catch (error) {
    return repeatAfterCutOff(client, deadline, error, attempt, isCutOff);
  }
}

/** The second half of repeatIfCutOff, once the first attempt failed with `error`: rethrows it unless it was a cut-off and a connection is ready again. */
export async function repeatAfterCutOff<Res>(
  client: Client,
  deadline: Date,
  error: unknown,
  attempt: () => Promise<Res>,
  isCutOff: (error: unknown) => boolean,
): Promise<Res> {
  if (!isCutOff(error)) throw error;
  const until = new Date(Math.min(deadline.getTime(), Date.now() + REPEAT_READY_WAIT_MS));
  const ready = await new Promise<boolean>((resolve) => client.waitForReady(until, (e) => resolve(!e)));
  if (!ready) throw error;
  return attempt();
}
