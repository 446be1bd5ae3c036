import { dropSystemData, RunningSystem, startSystem, SystemOptions, testStack } from '@orderflow/stack';
import { DEV_JWT_SECRET } from '../src/config';
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
