import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { withBuildArgs } from './dockerfile-lint';

/** The repository root (tools/deploy-checks/src -> three levels up). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');

export const APPS = ['gateway', 'order-command', 'inventory', 'order-query'] as const;
export type App = (typeof APPS)[number];

export const readText = (relative: string): string => fs.readFileSync(path.join(ROOT, relative), 'utf8');

/** The one Dockerfile of the four app images (`docker build --build-arg APP=<app> .`). */
export const DOCKERFILE = 'Dockerfile';

/** The Dockerfile as `docker build --build-arg APP=<app>` reads it. */
export const appDockerfile = (app: App): string => withBuildArgs(readText(DOCKERFILE), { APP: app });

export const readYaml = <T = unknown>(relative: string): T => yaml.load(readText(relative)) as T;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Runs a command without a shell; throws with its output when it cannot be started. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  return result;
}

/** True when `command` is on the PATH. */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && fs.existsSync(path.join(dir, command)));
}
