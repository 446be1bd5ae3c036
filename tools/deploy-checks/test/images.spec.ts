/**
 * The images' build and run, emulated without a Docker engine: the build stage's bundling
 * (tools/deploy-checks/build-app.mjs), then per app the final stage as the Dockerfile writes it with --build-arg APP=<app> (the
 * workspace manifests, the very `npm ci --omit=dev ...` command of its final stage, the bundle), and the
 * bundles started from there: production dependencies only, as in the image.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { freePort } from '@orderflow/stack';
import { HealthImplementation } from 'grpc-health-check';
import { argumentsOf, finalStage } from '../src/dockerfile-lint';
import { App, appDockerfile, APPS, readText, ROOT, run } from '../src/workspace';

// Memory-backed when there is one: the installs write a few hundred MB.
const scratch = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const work = fs.mkdtempSync(path.join(scratch, 'orderflow-images-'));

/** A command's exit, output and duration; killed after timeoutMs. */
function execute(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }) {
  return new Promise<{ code: number | null; output: string; ms: number }>((resolve) => {
    const started = Date.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - started });
    });
  });
}

/** The final stage's ENV, as the container starts with it. */
function imageEnv(app: App): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of finalStage(appDockerfile(app)).filter((i) => i.getKeyword() === 'ENV')) {
    for (const pair of argumentsOf(instruction).split(/\s+/)) {
      const [name, value] = pair.split('=');
      if (name && value !== undefined) env[name] = value;
    }
  }
  return env;
}

/** The `npm ci ...` of the final stage's RUN, word for word. */
function finalInstall(app: App): string[] {
  const install = finalStage(appDockerfile(app))
    .filter((i) => i.getKeyword() === 'RUN')
    .map(argumentsOf)
    .map((command) =>
      command
        .split('&&')
        .map((part) => part.trim())
        .find((part) => part.startsWith('npm ci')),
    )
    .find(Boolean);
  if (!install) throw new Error(`Dockerfile (APP=${app}): no npm ci in the final stage`);
  return install.split(/\s+/).slice(1);
}

/** What the Dockerfile's manifests stage copies: the root manifests and every workspace's package.json. */
function copyManifests(target: string): void {
  for (const file of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, file), path.join(target, file));
  const { workspaces } = JSON.parse(readText('package.json')) as { workspaces: string[] };
  for (const glob of workspaces) {
    const parent = glob.replace(/\/\*$/, '');
    for (const entry of fs.readdirSync(path.join(ROOT, parent))) {
      const manifest = path.join(parent, entry, 'package.json');
      if (!fs.existsSync(path.join(ROOT, manifest))) continue;
      fs.mkdirSync(path.join(target, parent, entry), { recursive: true });
      fs.copyFileSync(path.join(ROOT, manifest), path.join(target, manifest));
    }
  }
}

/**
 * Apps whose final-stage install is the same (same npm ci arguments but the app, same dependencies,
 * same lock entries under their folder) share one emulated image root: order-command and order-query.
 */
function installKey(app: App): string {
  const lock = JSON.parse(readText('package-lock.json')) as { packages: Record<string, unknown> };
  const manifest = JSON.parse(readText(`apps/${app}/package.json`)) as Record<string, unknown>;
  const nested = Object.entries(lock.packages)
    .filter(([location]) => location.startsWith(`apps/${app}/node_modules/`))
    .map(([location, entry]) => [location.slice(`apps/${app}/`.length), entry]);
  const args = finalInstall(app).map((a) => (a === `apps/${app}` ? '<app>' : a));
  return JSON.stringify([args, manifest.dependencies ?? {}, manifest.optionalDependencies ?? {}, manifest.peerDependencies ?? {}, nested]);
}

const groups = new Map<string, App[]>();
for (const app of APPS) groups.set(installKey(app), [...(groups.get(installKey(app)) ?? []), app]);
const imageRoot = (app: App) => path.join(work, [...groups.values()].find((apps) => apps.includes(app))?.[0] ?? app);
const bundleDir = (app: App) => path.join(imageRoot(app), 'dist', 'apps', app);

const baseEnv = (app: App, extra: Record<string, string>): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  ...imageEnv(app),
  ...extra,
});

beforeAll(async () => {
  const bundles = path.join(work, 'bundles');
  const built = run(process.execPath, ['tools/deploy-checks/build-app.mjs', ...APPS, '--outdir', bundles]);
  if (built.status !== 0) throw new Error(`build-app.mjs failed:\n${built.stdout}${built.stderr}`);

  const prepare = async (apps: App[]) => {
    const [first] = apps as [App];
    fs.mkdirSync(imageRoot(first), { recursive: true });
    copyManifests(imageRoot(first));
    const npmArgs = [...finalInstall(first), '--prefer-offline'];
    const installed = await execute('npm', npmArgs, { cwd: imageRoot(first), env: process.env, timeoutMs: 180_000 });
    if (installed.code !== 0) throw new Error(`${first}: npm ${npmArgs.join(' ')} failed:\n${installed.output}`);
    for (const app of apps) {
      fs.cpSync(path.join(bundles, 'apps', app), bundleDir(app), { recursive: true });
      if (appDockerfile(app).includes('COPY tools/deploy-checks/grpc-health.cjs ./')) {
        fs.copyFileSync(path.join(ROOT, 'tools/deploy-checks/grpc-health.cjs'), path.join(imageRoot(app), 'grpc-health.cjs'));
      }
    }
  };
  await Promise.all([...groups.values()].map(prepare));
}, 300_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('the app bundles in their images', () => {
  it.each(APPS)("when %s is bundled, then every package it leaves external resolves from the image's production dependencies", (app) => {
    const meta = JSON.parse(fs.readFileSync(path.join(bundleDir(app), 'build-meta.json'), 'utf8')) as { externals: string[] };
    expect(meta.externals.length).toBeGreaterThan(0);
    const probe = `for (const name of ${JSON.stringify(meta.externals)}) require.resolve(name); console.log('ok')`;
    const resolved = run(process.execPath, ['-e', probe], { cwd: bundleDir(app), env: { PATH: process.env.PATH } });
    expect(resolved.stderr).toBe('');
    expect(resolved.stdout.trim()).toBe('ok');
  });

  it.each(APPS)("when %s is bundled, then the descriptor set reflection reads lies where the bundle's __dirname points", (app) => {
    const beside = fs.readFileSync(path.join(bundleDir(app), 'generated', 'descriptor-set.binpb'));
    expect(beside.equals(fs.readFileSync(path.join(ROOT, 'libs/proto/src/generated/descriptor-set.binpb')))).toBe(true);
  });

  it.each(['inventory', 'order-command', 'order-query'] as const)(
    'when the %s image starts with MySQL, Redis and NATS unreachable, then it fails fast naming the database, not a missing module',
    async (app) => {
      const [mysql, redis, nats] = [await freePort(), await freePort(), await freePort()];
      const shards = (prefix: string) => [0, 1].map((i) => `127.0.0.1:${mysql}/${prefix}_${i}`).join(',');
      const result = await execute(process.execPath, ['--enable-source-maps', '--max-semi-space-size=32', `dist/apps/${app}/main.js`], {
        cwd: imageRoot(app),
        timeoutMs: 30_000,
        env: baseEnv(app, {
          INVENTORY_GRPC_HOST: '127.0.0.1',
          INVENTORY_GRPC_PORT: '0',
          INVENTORY_METRICS_PORT: '0',
          INVENTORY_MYSQL_HOST: '127.0.0.1',
          INVENTORY_MYSQL_PORT: String(mysql),
          INVENTORY_REDIS: `127.0.0.1:${redis}`,
          ORDER_COMMAND_GRPC_HOST: '127.0.0.1',
          ORDER_COMMAND_GRPC_PORT: '0',
          ORDER_COMMAND_METRICS_PORT: '0',
          ORDER_QUERY_GRPC_HOST: '127.0.0.1',
          ORDER_QUERY_GRPC_PORT: '0',
          ORDER_QUERY_METRICS_PORT: '0',
          ORDER_SHARDS: shards('orderflow_orders'),
          READ_SHARDS: shards('orderflow_read'),
          NATS_SERVERS: `127.0.0.1:${nats}`,
        }),
      });
      expect(result.output).not.toMatch(/Cannot find module|MODULE_NOT_FOUND|ERR_REQUIRE_ESM/);
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull(); // exited by itself, not killed at the time-out
      expect(result.output).toContain(`ECONNREFUSED 127.0.0.1:${mysql}`);
      expect(result.output).toContain('failed to start');
      expect(result.ms).toBeLessThan(15_000);
    },
    40_000,
  );

  describe('the gateway image', () => {
    let child: ChildProcess | undefined;
    let base = '';
    let output = '';

    beforeAll(async () => {
      const port = await freePort();
      const closed = await freePort();
      base = `http://127.0.0.1:${port}`;
      child = spawn(process.execPath, ['--enable-source-maps', '--max-semi-space-size=32', 'dist/apps/gateway/main.js'], {
        cwd: imageRoot('gateway'),
        env: baseEnv('gateway', {
          GATEWAY_HOST: '127.0.0.1',
          GATEWAY_PORT: String(port),
          ORDER_COMMAND_ADDRESS: `127.0.0.1:${closed}`,
          ORDER_QUERY_ADDRESS: `127.0.0.1:${closed}`,
          INVENTORY_ADDRESS: `127.0.0.1:${closed}`,
          JWT_SECRET: 'a-test-secret-that-is-not-the-dev-default',
          LOG_LEVEL: 'warn',
          // Spans printed to stdout: proves OpenTelemetry still instruments the bundle's external packages.
          OTEL_TRACES_EXPORTER: 'console',
          OTEL_BSP_SCHEDULE_DELAY: '100',
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (chunk) => (output += chunk));
      child.stderr?.on('data', (chunk) => (output += chunk));
      const deadline = Date.now() + 20_000;
      for (;;) {
        const up = await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) break;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the bundled gateway did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }, 30_000);

    afterAll(() => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
    });

    it('when it runs from its image, then it is live, not ready (no downstreams), and serves its OpenAPI document, Swagger UI assets and metrics', async () => {
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/orders', '/api/products/{id}']));
      expect((await fetch(`${base}/docs/static/swagger-ui.css`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('orderflow_http_requests_total');
      // Validation runs in the bundle (ajv 8 is bundled: it is nested under apps/gateway/node_modules).
      const invalid = await fetch(`${base}/api/products/x`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"name": 1}' });
      expect([400, 401]).toContain(invalid.status);
    });

    it('when tracing is on, then the HTTP request and the gRPC call it makes are traced from the bundle', async () => {
      await fetch(`${base}/api/products/desk-lamp`);
      const deadline = Date.now() + 5_000;
      // The gRPC span ends first; the HTTP span when the answer is sent (after the gateway's repeat of the failed call).
      while (!(output.includes('InventoryService/GetProducts') && output.includes("'GET /api/products/:id'")) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(output).toContain("'GET /api/products/:id'");
      expect(output).toContain('grpc.orderflow.inventory.v1.InventoryService/GetProducts');
    });

    it('when it gets SIGTERM, then it drains and exits 0', async () => {
      const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
      child?.kill('SIGTERM');
      await expect(exited).resolves.toBe(0);
    });
  });

  it('when the gateway image starts with the dev JWT secret (its NODE_ENV is production), then it refuses, naming JWT_SECRET', async () => {
    const result = await execute(process.execPath, ['dist/apps/gateway/main.js'], {
      cwd: imageRoot('gateway'),
      timeoutMs: 20_000,
      env: baseEnv('gateway', { GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0' }),
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain('JWT_SECRET');
  });
});

describe('the gRPC HEALTHCHECK script in the service images', () => {
  const health = new HealthImplementation({ '': 'SERVING' });
  const server = new grpc.Server();
  let port = 0;

  beforeAll(async () => {
    health.addToServer(server);
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
  });
  afterAll(() => server.forceShutdown());

  const check = (portValue: string) =>
    execute(process.execPath, ['grpc-health.cjs', 'PROBE_PORT', '1'], {
      cwd: imageRoot('inventory'),
      timeoutMs: 10_000,
      env: { PATH: process.env.PATH, PROBE_PORT: portValue },
    });

  it("when the server is SERVING, then the check exits 0 (with the image's production dependencies only)", async () => {
    health.setStatus('', 'SERVING');
    expect(await check(String(port))).toMatchObject({ code: 0 });
  });

  it('when the server is NOT_SERVING (starting or draining), then the check exits 1 and says so', async () => {
    health.setStatus('', 'NOT_SERVING');
    const result = await check(String(port));
    expect(result.code).toBe(1);
    expect(result.output).toContain('NOT_SERVING');
  });

  it('when nothing listens on the port, then the check exits 1 within its deadline', async () => {
    const result = await check(String(await freePort()));
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(5_000);
  });
});
