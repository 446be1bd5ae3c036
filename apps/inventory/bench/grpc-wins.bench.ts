/**
 * Issue 14's cheap gRPC wins, each measured alone: every variant differs from "all on" (what main ships)
 * in ONE thing, undone as it was before.
 *   npm run bench:grpc-wins [-- --seconds 5 --concurrency 64 --rounds 3 --warm-up 1 --idle-seconds 35]
 * Starts grpc-floor.server.ts (inventory's GrpcServer, metrics interceptor and unary adapter, Reserve
 * answered with no work) once per server setting, and drives Reserve calls from this process through
 * service-kit's unaryCaller over the generated stub, as order-command makes them (repeat if cut off), at
 * --concurrency, for --seconds per line. Rounds alternate the order of the variants (reversed in even
 * rounds); every variant is warmed up for --warm-up seconds before the first. Per line: calls/s and the
 * CPU per call of both processes (this one from process.cpuUsage, the server's from /proc/<pid>/stat);
 * the table gives the medians over the rounds and each variant's ratio to "all on" of the same round.
 * Then the health client on the service client's channel (sharedChannel) or its own: TCP connections, and both processes'
 * CPU over --idle-seconds idle (keepalive pings every 30 s): it cannot show in calls/s.
 * Needs no stack. Writes reports/bench-grpc-wins.json; stops every server it started, on failure and Ctrl-C too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type ChannelOptions, credentials } from '@grpc/grpc-js';
import { connectionsTo, cpuUsPerCall, formatWinsTable, processCpuSeconds, roundOrder, summarizeWins, type WinMeasurement } from '@orderflow/bench';
import { errorDetails, inventoryV1 } from '@orderflow/proto';
import { grpcChannel, HealthClient, sharedChannel, unaryCaller } from '@orderflow/service-kit';
import { freePort, numberOption, runCommand, SERVICE_NODE_FLAGS, typescriptNodeArgs, workspaceRoot } from '@orderflow/stack';
import { closuresPerCallCaller } from './closures-per-call.unary-caller';
import { withFreshMetadata } from './fresh-metadata.stub';
import { drive } from './load';

const SECONDS = numberOption('--seconds', 5);
const CONCURRENCY = numberOption('--concurrency', 64);
const ROUNDS = numberOption('--rounds', 3);
const WARM_UP_SECONDS = numberOption('--warm-up', 1);
/** Longer than grpcChannel's keepalive (30 s), so each channel pings at least once. */
const IDLE_SECONDS = numberOption('--idle-seconds', 35);
const root = workspaceRoot();

/** The floor server's settings (grpc-floor.server.ts's env toggles); the debug one writes its call log to /dev/null. */
const SERVERS = {
  shipped: { env: {}, stdout: 'inherit' },
  channelz: { env: { GRPC_FLOOR_CHANNELZ: '1' }, stdout: 'inherit' },
  perCallLabels: { env: { GRPC_FLOOR_METRICS: 'per-call' }, stdout: 'inherit' },
  debugLog: { env: { GRPC_FLOOR_LOG_LEVEL: 'debug' }, stdout: 'ignore' },
} as const;
type ServerSetting = keyof typeof SERVERS;

interface Variant {
  name: string;
  server: ServerSetting;
  /** Over grpcChannel's options (LEAN_GRPC_OPTIONS among them). */
  clientOptions?: ChannelOptions;
  freshMetadata?: boolean;
  /** unaryCaller's closures per call as before 0328ef3 (closures-per-call.unary-caller.ts). */
  closuresPerCall?: boolean;
  reproduces: string;
}

const BASELINE = 'all on';
const VARIANTS: Variant[] = [
  { name: BASELINE, server: 'shipped', reproduces: 'main as shipped: every win on' },
  {
    name: 'channelz on',
    server: 'channelz',
    clientOptions: { 'grpc.enable_channelz': 1 },
    reproduces: "grpc.enable_channelz 1 on the client's channel and on the server (grpc-js's default before LEAN_GRPC_OPTIONS)",
  },
  {
    name: 'fresh Metadata per call',
    server: 'shipped',
    freshMetadata: true,
    reproduces:
      'a new Metadata for every call without a request id, as unaryCaller made before (the stub under unaryCaller swaps its shared empty one for a new one: one more function call)',
  },
  {
    name: 'repeat closures per call',
    server: 'shipped',
    closuresPerCall: true,
    reproduces:
      "unaryCaller's calls as before 0328ef3 but for the metadata: the attempt's closure and repeatIfCutOff's async wrapper (one more promise) on every call",
  },
  {
    name: 'metric labels per call',
    server: 'perCallLabels',
    reproduces: "the server metrics interceptor before 0328ef3: path split by regex, label objects and the timer's closure made on every call",
  },
  {
    name: 'debug call log on',
    server: 'debugLog',
    reproduces: "the server's logger at debug: GrpcServer's call-log wrapper and one JSON line per call (pino, with the request-id mixin) written to /dev/null",
  },
];

/** Every floor server this run started, stopped at its end, on failure and on Ctrl-C. */
const started = new Set<ChildProcess>();

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(force);
  }
  started.delete(child);
}

const stopServers = () => Promise.all([...started].map(stopServer));

interface Floor {
  child: ChildProcess;
  pid: number;
  port: number;
}

async function startFloor(setting: ServerSetting): Promise<Floor> {
  const port = await freePort();
  const { env, stdout } = SERVERS[setting];
  const child = spawn(process.execPath, typescriptNodeArgs(path.join(root, 'apps', 'inventory', 'bench', 'grpc-floor.server.ts'), SERVICE_NODE_FLAGS), {
    env: { ...process.env, ...env, GRPC_FLOOR_PORT: String(port) },
    stdio: ['ignore', stdout, 'inherit'],
  });
  started.add(child);
  if (child.pid === undefined) throw new Error(`the floor server (${setting}) did not start`);
  return { child, pid: child.pid, port };
}

const serverCpuSeconds = (floor: Floor) => processCpuSeconds(fs.readFileSync(`/proc/${floor.pid}/stat`, 'utf8'));
const clientCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/** A client for a variant, on a channel of its own made as every service makes one (grpcChannel). */
function connect(port: number, clientOptions: ChannelOptions = {}): inventoryV1.InventoryServiceClient {
  const { target, options } = grpcChannel(`127.0.0.1:${port}`, clientOptions);
  return new inventoryV1.InventoryServiceClient(target, credentials.createInsecure(), options);
}

const callOptions = { deadlineMs: 30_000, isCutOff: errorDetails.isCutOff };

let reserved = 0;
/** Reserve as order-command calls it (unaryCaller, repeat if cut off), one unit under a new order id; no request id (outside a served call). */
function reserveCaller(client: inventoryV1.InventoryServiceClient, caller: typeof unaryCaller = unaryCaller) {
  const reserve = caller(client, callOptions)('reserve', { repeatIfCutOff: true });
  return () =>
    reserve({
      orderId: `wins-${process.pid}-${reserved++}`,
      items: [{ productId: 'bench-hot', quantity: 1 }],
      expiresAt: new Date(Date.now() + 3600_000),
      expectedPrices: [],
      placementId: '',
    });
}

/** Resolves once the floor answers on `client`; fails if it exits first. */
async function whenReady(floor: Floor, client: inventoryV1.InventoryServiceClient): Promise<void> {
  const getProducts = unaryCaller(client, { ...callOptions, deadlineMs: 1_000 })('getProducts', { repeatIfCutOff: false });
  for (;;) {
    if (floor.child.exitCode !== null || floor.child.signalCode !== null) throw new Error(`the floor server on port ${floor.port} exited before it answered`);
    if (
      await getProducts({ productIds: ['x'] }).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** One line: `call` at CONCURRENCY for `seconds`, with both processes' CPU per call. */
async function measure(variant: string, round: number, floor: Floor, call: () => Promise<unknown>, seconds: number): Promise<WinMeasurement> {
  const [client0, server0] = [clientCpuSeconds(), serverCpuSeconds(floor)];
  const result = await drive(variant, CONCURRENCY, seconds * 1000, call);
  const [client1, server1] = [clientCpuSeconds(), serverCpuSeconds(floor)];
  const calls = result.ok + result.errors;
  return {
    variant,
    round,
    calls,
    errors: result.errors,
    callsPerSecond: result.perSecond,
    clientCpuUsPerCall: cpuUsPerCall(client1 - client0, calls),
    serverCpuUsPerCall: cpuUsPerCall(server1 - server0, calls),
  };
}

const progress = (m: WinMeasurement) =>
  `round ${m.round}/${ROUNDS}  ${m.variant.padEnd(24)} ${Math.round(m.callsPerSecond).toLocaleString('en-US').padStart(7)} calls/s   ` +
  `client ${m.clientCpuUsPerCall.toFixed(1).padStart(6)} µs/call   server ${m.serverCpuUsPerCall.toFixed(1).padStart(6)} µs/call   errors ${m.errors}`;

/** Where the health client's calls go: the service client's channel, a channel of its own, or one with a subchannel pool of its own too. */
const HEALTH_CHANNELS = ['sharedChannel', 'own channel', 'own channel, own subchannel pool'] as const;
type HealthChannel = (typeof HEALTH_CHANNELS)[number];

interface HealthChannelResult {
  healthClient: HealthChannel;
  connections: number;
  idleSeconds: number;
  clientCpuMs: number;
  serverCpuMs: number;
}

const connectionsToPort = (port: number) =>
  ['/proc/net/tcp', '/proc/net/tcp6'].reduce((sum, file) => sum + (fs.existsSync(file) ? connectionsTo(fs.readFileSync(file, 'utf8'), port) : 0), 0);

/** Before the idle window: the floor's start-up and this process's last load settle (GC, compilation). */
const SETTLE_MS = 3_000;

/**
 * A service client and a health client beside it, as the gateway has one per downstream: on the same
 * channel (sharedChannel, main), on a channel of its own made the same way (the gateway before
 * e8a9529), or on one that also keeps its own subchannel pool (grpc.use_local_subchannel_pool: what a
 * second channel costs when grpc-js's global pool cannot share a connection, e.g. other options),
 * against a floor of its own (no other client ever connected to it). Counts the TCP connections to the
 * floor once both have answered, then both processes' CPU over IDLE_SECONDS with nothing to do.
 */
async function healthChannel(mode: HealthChannel): Promise<HealthChannelResult> {
  const floor = await startFloor('shipped');
  const client = connect(floor.port);
  const shared = mode === 'sharedChannel';
  const { target, options } = grpcChannel(`127.0.0.1:${floor.port}`, mode === 'own channel' ? {} : { 'grpc.use_local_subchannel_pool': 1 });
  const health = new HealthClient(target, credentials.createInsecure(), shared ? sharedChannel(client) : options);
  try {
    await whenReady(floor, client);
    await reserveCaller(client)();
    await unaryCaller(health, callOptions)('check', { repeatIfCutOff: false })({ service: '' });
    const connections = connectionsToPort(floor.port);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const [client0, server0] = [clientCpuSeconds(), serverCpuSeconds(floor)];
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const [client1, server1] = [clientCpuSeconds(), serverCpuSeconds(floor)];
    return {
      healthClient: mode,
      connections,
      idleSeconds: IDLE_SECONDS,
      clientCpuMs: (client1 - client0) * 1000,
      serverCpuMs: (server1 - server0) * 1000,
    };
  } finally {
    if (!shared) health.close();
    client.close(); // the shared health client's channel too
    await stopServer(floor.child);
  }
}

async function main(): Promise<void> {
  console.log(
    `\nissue 14's cheap gRPC wins, each undone alone: Reserve against the gRPC floor through unaryCaller, c=${CONCURRENCY}, ` +
      `${SECONDS} s per line, ${ROUNDS} rounds (even rounds reversed), ${WARM_UP_SECONDS} s warm-up per variant\n`,
  );
  for (const v of VARIANTS) console.log(`  ${v.name.padEnd(24)} ${v.reproduces}`);
  console.log('');

  const floors = new Map<ServerSetting, Floor>();
  for (const setting of new Set(VARIANTS.map((v) => v.server))) floors.set(setting, await startFloor(setting));
  const lines = new Map<string, { floor: Floor; client: inventoryV1.InventoryServiceClient; call: () => Promise<unknown> }>();
  for (const v of VARIANTS) {
    const floor = floors.get(v.server)!;
    const client = connect(floor.port, v.clientOptions);
    await whenReady(floor, client);
    const call = reserveCaller(v.freshMetadata ? withFreshMetadata(client) : client, v.closuresPerCall ? closuresPerCallCaller : unaryCaller);
    lines.set(v.name, { floor, client, call });
  }

  const measurements: WinMeasurement[] = [];
  try {
    for (const v of VARIANTS) {
      await drive(`${v.name} (warm-up)`, CONCURRENCY, WARM_UP_SECONDS * 1000, lines.get(v.name)!.call);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const v of roundOrder(VARIANTS, round)) {
        const { floor, call } = lines.get(v.name)!;
        const m = await measure(v.name, round, floor, call, SECONDS);
        measurements.push(m);
        console.log(progress(m));
      }
    }
  } finally {
    for (const { client } of lines.values()) client.close();
  }

  const names = VARIANTS.map((v) => v.name);
  const summary = summarizeWins(measurements, names, BASELINE);
  console.log(`\nmedians of ${ROUNDS} round(s); ratios to "${BASELINE}" taken within each round, then their median (CPU: both processes per call)\n`);
  console.log(formatWinsTable(summary));

  console.log(
    `\nthe health client beside the service client (a floor each; idle ${IDLE_SECONDS} s after both answered, keepalive every 30 s): ` +
      'not in calls/s (Reserve calls never go through it), so in connections and idle CPU',
  );
  await stopServers(); // the variants' floors: idle, they would only add noise
  const health: HealthChannelResult[] = [];
  for (const mode of HEALTH_CHANNELS) {
    const h = await healthChannel(mode);
    health.push(h);
    console.log(
      `  ${h.healthClient.padEnd(34)} ${h.connections} TCP connection(s) to the server   ` +
        `idle CPU: client ${h.clientCpuMs.toFixed(1)} ms, server ${h.serverCpuMs.toFixed(1)} ms (the server's in /proc ticks of 10 ms)`,
    );
  }
  const [viaShared, viaOwn] = health;
  if (viaShared && viaOwn && viaOwn.connections === viaShared.connections)
    console.log(
      "  a channel of its own with the same target and options shares the connection anyway (grpc-js's global subchannel pool): " +
        'it costs its resolver and round_robin policy, made once, not a connection',
    );
  console.log(
    '\nnote: the shared empty Metadata serves calls made outside a served call (the sweeps of order-command retrying a Commit or Release owed to inventory); a call made while serving one ' +
      '(PlaceOrder -> Reserve) carries x-request-id and builds its Metadata in both',
  );

  fs.mkdirSync(path.join(root, 'reports'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'reports', 'bench-grpc-wins.json'),
    JSON.stringify(
      {
        seconds: SECONDS,
        concurrency: CONCURRENCY,
        rounds: ROUNDS,
        warmUpSeconds: WARM_UP_SECONDS,
        baseline: BASELINE,
        variants: VARIANTS.map(({ name, reproduces }) => ({ name, reproduces })),
        measurements,
        summary,
        healthChannel: health,
      },
      null,
      2,
    ),
  );
  console.log('\nwritten: reports/bench-grpc-wins.json');
}

runCommand(main, stopServers);
