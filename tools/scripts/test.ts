/**
 * `npm test`: every check and every test, against a private stack of its own.
 *   1. lint and typecheck every project (Nx);
 *   2. start the test stack (MariaDB x3, Redis x3, NATS on the test ports), installing what is missing
 *      (and Debian's Chromium for the browser check of /docs, Debian's Prometheus for the alert rules);
 *   3. run every project's Jest suite through Nx, unit and integration, against that stack;
 *   4. stop the stack, and print `tests: N passed, N failed` summed over every project.
 * Extra arguments go to `nx run-many` (for example `--projects=@orderflow/inventory`).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  BROWSER_PACKAGES,
  ensurePackages,
  PROMETHEUS_PACKAGES,
  startStack,
  stopStack,
  TEST_MARIADB_COUNT,
  TEST_REDIS_COUNT,
  workspaceRoot,
} from '@orderflow/stack';

const root = workspaceRoot();
const reports = path.join(root, 'reports', 'jest');
const nxBin = path.join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
const extra = process.argv.slice(2);

const env = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  ORDERFLOW_TEST_STACK: 'external',
  ORDERFLOW_TEST_REPORT_DIR: reports,
};

function nx(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [nxBin, ...args], { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function summarize(): { passed: number; failed: number } {
  let passed = 0;
  let failed = 0;
  for (const file of fs.existsSync(reports) ? fs.readdirSync(reports) : []) {
    const summary = JSON.parse(fs.readFileSync(path.join(reports, file), 'utf8')) as { passed: number; failed: number };
    passed += summary.passed;
    failed += summary.failed;
  }
  return { passed, failed };
}

async function main(): Promise<number> {
  fs.rmSync(reports, { recursive: true, force: true });
  fs.mkdirSync(reports, { recursive: true });
  const started = Date.now();

  console.log('== lint and typecheck');
  const checks = await nx(['run-many', '-t', 'lint', 'typecheck', '--parallel=2', '--outputStyle=static', ...extra]);

  console.log('== test stack');
  let tests = 1;
  try {
    await startStack({ profile: 'test', redisCount: TEST_REDIS_COUNT, mariadbCount: TEST_MARIADB_COUNT });
    // The gateway's /docs check runs in Debian's Chromium; deploy-checks test the alert rules with promtool.
    ensurePackages(console.log, { ...BROWSER_PACKAGES, ...PROMETHEUS_PACKAGES });
    console.log('== tests');
    tests = await nx(['run-many', '-t', 'test', '--parallel=1', '--outputStyle=static', ...extra]);
  } finally {
    console.log('== stopping the test stack');
    await stopStack({ profile: 'test' });
  }

  const { passed, failed } = summarize();
  console.log(`\nlint/typecheck: ${checks === 0 ? 'ok' : 'FAILED'}; took ${Math.round((Date.now() - started) / 1000)} s`);
  console.log(`tests: ${passed} passed, ${failed} failed`);
  return checks === 0 && tests === 0 && failed === 0 && passed > 0 ? 0 : 1;
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    stopStack({ profile: 'test' }).finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
