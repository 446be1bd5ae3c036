import { orderV1 } from '@orderflow/proto';
import { dropSystemData, freePort, RunningSystem, startSystem, SystemOptions, testStack } from '@orderflow/stack';
import { createGateway, Gateway } from '../src/app';
import { DEV_JWT_SECRET, loadConfig } from '../src/config';
import { signDevToken } from '../src/dev-token';
import { assertDocumented, openApiResponseChecker } from './openapi-contract';

let counter = 0;

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestSystem {
  system: RunningSystem;
  url: string;
  token(customerId: string, options?: { admin?: boolean; ttlSeconds?: number }): string;
  /** Every response is checked against the gateway's own /openapi.json: one that differs fails the test. */
  http<T = any>(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<HttpResult<T>>;
  /** Direct SQL on one of this system's databases (to check invariants from the source of truth). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** The four services as processes on the test stack, with databases and a stream of their own. */
export async function startTestSystem(
  env: Record<string, string> = {},
  options: Pick<SystemOptions, 'supervision' | 'replicas' | 'onOutput'> = {},
): Promise<TestSystem> {
  const stack = testStack.info();
  const tag = `gw${process.pid}_${++counter}`;
  const system = await startSystem({ stack, tag, env: { LOG_LEVEL: 'warn', ...env }, stdio: 'inherit', ...options });
  const url = system.gatewayUrl;
  const checkResponse = await openApiResponseChecker((await (await fetch(`${url}/openapi.json`)).json()) as object);
  return {
    system,
    url,
    env: system.env,
    token: (customerId, options = {}) => signDevToken(DEV_JWT_SECRET, customerId, options),
    async http(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined = options.raw;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${url}${path}`, { method, headers, body });
      const text = await response.text();
      assertDocumented(checkResponse, { method, path, status: response.status, headers: response.headers, text });
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON (metrics, docs)
      }
      return { status: response.status, headers: response.headers, body: parsed as any };
    },
    async stop() {
      await system.stop();
      await dropSystemData(system.env);
    },
  };
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Downstream addresses where nothing listens, and short waits: what needs a service ends in 503, soon. */
const NO_DOWNSTREAM = {
  ORDER_COMMAND_ADDRESS: '127.0.0.1:1',
  ORDER_QUERY_ADDRESS: '127.0.0.1:1',
  INVENTORY_ADDRESS: '127.0.0.1:1',
  DOWNSTREAM_DEADLINE_MS: '300',
  READ_YOUR_WRITES_WAIT_MS: '100',
};

export interface GatewayAlone {
  gateway: Gateway;
  /** GET on the gateway, with the token as a bearer when given. */
  get(path: string, token?: string): Promise<Response>;
}

/**
 * For a describe block: a starter of gateways in this process, each on a free port with its downstream
 * services unreachable (`env` on top), all stopped after the block's tests.
 */
export function gatewaysAlone(): (env: Record<string, string>, options?: Parameters<typeof createGateway>[1]) => Promise<GatewayAlone> {
  const started: Gateway[] = [];
  afterAll(async () => {
    for (const g of started) await g.stop();
  });
  return async (env, options) => {
    const gateway = await createGateway(loadConfig({ GATEWAY_PORT: String(await freePort()), ...NO_DOWNSTREAM, ...env }), options);
    await gateway.start();
    started.push(gateway);
    const get = (path: string, token?: string) =>
      fetch(`http://127.0.0.1:${gateway.port}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { gateway, get };
  };
}

/** The order a stand-in order-command answers PlaceOrder with: RESERVED, as requested, under `id`. */
export const placedOrder = (request: orderV1.PlaceOrderRequest, id: string): orderV1.Order => ({
  id,
  customerId: request.customerId,
  status: orderV1.OrderStatus.ORDER_STATUS_RESERVED,
  items: request.items,
  totalMinor: 100,
  address: request.address,
  paymentMethod: request.paymentMethod,
  version: 1,
  createdAt: new Date(),
  updatedAt: new Date(),
  expiresAt: new Date(Date.now() + 900_000),
});
