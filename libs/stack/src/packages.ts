import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Debian package -> a binary it installs. */
const REQUIRED: Record<string, string> = {
  'mariadb-server': 'mariadbd',
  'redis-server': 'redis-server',
  'nats-server': 'nats-server',
};

function onPath(binary: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin']);
  return dirs.some((dir) => fs.existsSync(`${dir}/${binary}`));
}

/** For browser tests: Debian's Chromium (driven by playwright-core with executablePath). */
export const BROWSER_PACKAGES: Record<string, string> = { chromium: 'chromium' };

/** For the alert checks: Debian's Prometheus (`promtool` checks and unit-tests the rules, `prometheus` runs them). */
export const PROMETHEUS_PACKAGES: Record<string, string> = { prometheus: 'promtool' };

export function missingPackages(required: Record<string, string> = REQUIRED): string[] {
  return Object.entries(required)
    .filter(([, binary]) => !onPath(binary))
    .map(([pkg]) => pkg);
}

/** Installs whichever of the packages (default: the servers) are missing, from Debian's archive. Needs root. */
export function ensurePackages(log: (line: string) => void = console.log, required: Record<string, string> = REQUIRED): void {
  const missing = missingPackages(required);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}; install them as root (apt-get install ${missing.join(' ')})`);
  }
  log(`installing ${missing.join(', ')} from Debian's archive (apt-get update first)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', ...missing]]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed with exit code ${result.status}`);
  }
  // Debian's packages put the servers' own binaries in /usr/sbin, which non-login shells may lack.
  if (!(process.env.PATH ?? '').split(':').includes('/usr/sbin')) process.env.PATH = `${process.env.PATH}:/usr/sbin`;
}
