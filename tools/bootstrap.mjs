// Entry point of the root npm scripts. Plain Node with no dependencies, so it runs on a fresh clone:
// it installs the npm dependencies (npm ci) when they are missing or stale, then hands over to the
// TypeScript command named by its first argument (tools/scripts/<command>.ts, run with tsx's loader).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...args] = process.argv.slice(2);

function dependenciesAreCurrent() {
  const installed = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  return fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs;
}

if (!dependenciesAreCurrent()) {
  console.log('installing npm dependencies (npm ci)');
  const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (ci.status !== 0) process.exit(ci.status ?? 1);
}

const script = path.join(root, 'tools', 'scripts', `${command}.ts`);
if (!command || !fs.existsSync(script)) {
  console.error(`unknown command "${command ?? ''}"`);
  process.exit(2);
}
// One Node process with tsx's loader (not the tsx CLI, whose parent SIGKILLs a child that is slow to
// confirm a signal: see typescriptNodeArgs in libs/stack).
const loader = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const child = spawn(process.execPath, ['--import', loader, script, ...args], { cwd: root, stdio: 'inherit' });
// Ctrl-C reaches the child through the terminal's process group: we only wait for it to finish. A
// SIGTERM sent to this process alone (a supervisor's) is passed on.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 1 : 1)));
