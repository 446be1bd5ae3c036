/**
 * `npm start`: the whole system on this machine, in the foreground.
 *   installs missing Debian packages, starts the dev stack (MariaDB x2, Redis, NATS JetStream),
 *   starts the four services (five processes: order-command's outbox relay runs apart; each migrates its own databases), seeds a demo catalog, and prints
 *   where the API and its docs are, with a ready-to-paste curl. Ctrl-C stops all of it.
 *   `npm start -- --replicas 2` runs two processes of each service (ports 10 apart; the gateway's workers share :8080).
 *   `npm start -- --mariadb 3` runs a third MariaDB (13308) with one more order shard and one more read shard
 *   on it (orderflow_orders_4, orderflow_read_4), holding no buckets until a move gives it some; without the
 *   option, as many servers as the dev stack has data for (at least two), so moved buckets are never left out.
 *   A service process or server that dies is restarted (libs/stack's Supervisor); a crash loop, or a
 *   server stopped from outside (`npm run down`), stops everything.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { inventoryV1 } from '@orderflow/proto';
import {
  DEV_METRICS_PORTS,
  DEV_PORTS,
  knownMariaDbCount,
  MAX_MARIADB_COUNT,
  RunningSystem,
  ServerWatch,
  startStack,
  startSystem,
  stopStack,
  SupervisorEvent,
  watchStack,
} from '@orderflow/stack';
import { DEV_JWT_SECRET } from '../../apps/gateway/src/config';
import { signDevToken } from '../../apps/gateway/src/dev-token';
import { DEMO_CATALOG } from './demo-catalog';

const call = <Res>(fn: (cb: (error: Error | null, response: Res) => void) => void) =>
  new Promise<Res>((resolve, reject) => fn((error, response) => (error ? reject(error) : resolve(response))));

async function seedCatalog(address: string): Promise<void> {
  const client = new inventoryV1.InventoryServiceClient(address, credentials.createInsecure());
  try {
    const existing = await call<inventoryV1.GetProductsResponse>((cb) =>
      client.getProducts({ productIds: DEMO_CATALOG.map((p) => p.id) }, new Metadata(), { deadline: new Date(Date.now() + 5_000) }, cb),
    );
    // Only missing products are created: a restart keeps whatever stock the demo has used up.
    for (const product of DEMO_CATALOG.filter((p) => existing.missingProductIds.includes(p.id))) await call((cb) => client.upsertProduct(product, cb));
    console.log(`demo catalog: ${DEMO_CATALOG.length} products (${existing.missingProductIds.length} created now)`);
  } finally {
    client.close();
  }
}

let serverWatch: ServerWatch | undefined;
let system: Promise<RunningSystem> | undefined;
let shuttingDown = false;
async function shutdown(code: number, why?: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(`\n${why ? `${why}: ` : ''}stopping the services and the stack...`);
  // Supervision ends first (Ctrl-C reaches the services too: their exits are not crashes). A system
  // still starting is waited for (or its failure), so its processes are stopped as well.
  await Promise.all([
    serverWatch?.stop(),
    system?.then(
      (s) => s.stop(),
      () => undefined,
    ),
  ]);
  await stopStack({ profile: 'dev' });
  process.exit(code);
}

/** Every restart is logged; a crash loop stops everything with a non-zero exit, `npm run down` with 0. */
function onSupervisorEvent(event: SupervisorEvent): void {
  console.log(event.message);
  if (event.kind === 'gave-up') void shutdown(1, `${event.name} is in a crash loop (${event.crashes} crashes, last: ${event.how})`);
  if (event.kind === 'stopped') void shutdown(0, `${event.name} was stopped from outside`);
}

/** `--replicas N`: processes of each service (default 1). */
function replicasArgument(args: string[]): number {
  const at = args.indexOf('--replicas');
  if (at === -1) return 1;
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < 1 || value > 8) throw new Error('--replicas takes a whole number from 1 to 8');
  return value;
}

/**
 * `--mariadb N`: MariaDB servers (2 to 8). By default as many as the dev stack has data for: once buckets
 * were moved to a third server, every later start must list its shard again, or the services refuse the
 * stored map (it names a shard they do not have).
 */
function mariadbArgument(args: string[]): { count: number; remembered: boolean } {
  const at = args.indexOf('--mariadb');
  if (at === -1) return { count: knownMariaDbCount('dev'), remembered: true };
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < 2 || value > MAX_MARIADB_COUNT) throw new Error(`--mariadb takes a whole number from 2 to ${MAX_MARIADB_COUNT}`);
  return { count: value, remembered: false };
}

async function main(): Promise<void> {
  const replicas = replicasArgument(process.argv.slice(2));
  const mariadb = mariadbArgument(process.argv.slice(2));
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // The terminal closed (SIGHUP): stop everything as for Ctrl-C; what is still written to it goes nowhere.
  process.on('SIGHUP', () => {
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    void shutdown(0);
  });
  const redisCount = Number(process.env.ORDERFLOW_REDIS_COUNT ?? '1');
  const stack = await startStack({ profile: 'dev', redisCount, mariadbCount: mariadb.count });
  serverWatch = watchStack({ profile: 'dev', redisCount, mariadbCount: mariadb.count, onEvent: onSupervisorEvent });
  system = startSystem({
    stack,
    ports: DEV_PORTS,
    metricsPorts: DEV_METRICS_PORTS,
    logLevel: process.env.LOG_LEVEL ?? 'info',
    supervision: { onEvent: onSupervisorEvent },
    replicas,
    mariadb: mariadb.count,
  });
  const { gatewayUrl: url, replicaPorts, env } = await system;
  const each = (key: keyof (typeof replicaPorts)[number]) => replicaPorts.map((p) => `:${p[key]}`).join(' ');
  await seedCatalog(`127.0.0.1:${DEV_PORTS.inventory}`);
  const token = signDevToken(process.env.JWT_SECRET ?? DEV_JWT_SECRET, 'demo-customer', { ttlSeconds: 24 * 3600 });
  const count = (list: string) => env[list]!.split(',').length;
  const extra = env.ORDER_SHARDS!.split(',').length - 4;
  const shardLine = [
    `${count('ORDER_SHARDS')} order and ${count('READ_SHARDS')} read shards on MariaDB ${stack.mysql.map((m) => `:${m.port}`).join(' ')}${
      mariadb.remembered && extra > 0 ? ` (${mariadb.count} servers: the dev stack has data for ${mariadb.count}; --mariadb N chooses)` : ''
    }`,
    ...(extra > 0
      ? [
          `shard${extra > 1 ? `s 4-${3 + extra}` : ' 4'} of each set started with no buckets; ` +
            `a move gives ${extra > 1 ? 'them' : 'it'} some, with the same shard lists:`,
          `  export ORDER_SHARDS=${env.ORDER_SHARDS} READ_SHARDS=${env.READ_SHARDS}`,
          `  npm run shards -- move --buckets 896-1023 --to 4 [--set reads]`,
        ]
      : []),
  ].join('\n             ');
  const metricsOn =
    `:${DEV_METRICS_PORTS.orderCommand} (order-command), :${DEV_METRICS_PORTS.orderRelay} (outbox relay), ` +
    `:${DEV_METRICS_PORTS.inventory} (inventory), :${DEV_METRICS_PORTS.orderQuery} (order-query)`;
  console.log(`
Orderflow is up. Ctrl-C stops everything; \`npm run down\` stops a stack left behind.
A service or server that dies is restarted (the supervisor logs it); a crash loop stops everything.
  API        ${url}/api
  docs       ${url}/docs   (OpenAPI: ${url}/openapi.json)
  services   order-command ${each('orderCommand')}, inventory ${each('inventory')}, order-query ${each('orderQuery')} (gRPC, health + reflection);
             order-command's outbox relay runs as its own process (health on ${each('orderRelay')})${
               replicas > 1
                 ? `;
             ${replicas} replicas of each: callers spread their calls over them, the gateway runs ${replicas} workers on :${DEV_PORTS.gateway}`
                 : ''
             }
  shards     ${shardLine}
  metrics    ${url}/metrics, and GET /metrics on ${metricsOn}${replicas > 1 ? ', each 10 higher per replica' : ''}

Place an order as demo-customer, with the seed's own example body (token valid 24 h;
\`npm run token -- <customer> [--admin]\` mints others):

  curl -s -X POST ${url}/api/orders \\
    -H 'Authorization: Bearer ${token}' \\
    -H 'Content-Type: application/json' -H "Idempotency-Key: $(date +%s%N)" \\
    -d '{"items":[{"product_id":"product-uuid","quantity":2,"unit_price":99.50}],"address":"配送地址","payment_method":"信用卡"}'
`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  void shutdown(1);
});
