import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The repository root (tools/workspace/test/support -> four levels up). */
export const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** Environment for every nx call: no daemon, no cloud, no colours in the output we parse. */
export const NX_ENV = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0' };

/** Runs the workspace's own nx binary (what `npx nx` resolves to) from the workspace root and returns stdout. */
export async function nx(args: string[], env: NodeJS.ProcessEnv = NX_ENV): Promise<string> {
  const bin = path.join(WORKSPACE_ROOT, 'node_modules', '.bin', 'nx');
  const { stdout } = await execFileAsync(bin, args, { cwd: WORKSPACE_ROOT, env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** `nx show projects ... --json` parsed. */
export async function nxProjects(args: string[] = []): Promise<string[]> {
  const out = await nx(['show', 'projects', ...args, '--json']);
  return JSON.parse(out.slice(out.indexOf('['))) as string[];
}

export interface WorkspacePackage {
  name: string;
  root: string; // workspace-relative, posix
  tags: string[];
  packageJson: Record<string, unknown>;
}

/**
 * The npm workspace packages (apps/*, libs/*, tools/*), read straight from disk: an independent source of truth to
 * hold Nx's own answers against.
 */
export function workspacePackages(): WorkspacePackage[] {
  const rootPackageJson = JSON.parse(fs.readFileSync(path.join(WORKSPACE_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  const packages: WorkspacePackage[] = [];
  for (const glob of rootPackageJson.workspaces) {
    if (!/^[\w.-]+\/\*$/.test(glob)) throw new Error(`unsupported workspaces glob ${glob}`);
    const parent = glob.slice(0, -2);
    const parentDir = path.join(WORKSPACE_ROOT, parent);
    if (!fs.existsSync(parentDir)) continue;
    for (const entry of fs.readdirSync(parentDir, { withFileTypes: true })) {
      const file = path.join(parentDir, entry.name, 'package.json');
      if (!entry.isDirectory() || !fs.existsSync(file)) continue;
      const packageJson = JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string; nx?: { tags?: string[] } };
      packages.push({ name: packageJson.name, root: `${parent}/${entry.name}`, tags: packageJson.nx?.tags ?? [], packageJson });
    }
  }
  return packages;
}

const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage', 'reports', '.stack', '.nx']);

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) files.push(...sourceFiles(full));
    } else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name)) {
      files.push(full);
    }
  }
  return files;
}

// import x from '…' / export … from '…' / import '…' / import('…') / require('…'); captures the package name.
const IMPORT_OF_WORKSPACE_PACKAGE = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)(['"])(@orderflow\/[^'"/]+)(?:\/[^'"]*)?\1/g;

/** Workspace package names a package depends on: imports in its sources plus package.json dependencies. */
export function workspaceDependenciesOf(pkg: WorkspacePackage, workspaceNames: Set<string>): Set<string> {
  const deps = new Set<string>();
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
    const declared = pkg.packageJson[field] as Record<string, string> | undefined;
    for (const name of Object.keys(declared ?? {})) if (workspaceNames.has(name)) deps.add(name);
  }
  for (const file of sourceFiles(path.join(WORKSPACE_ROOT, pkg.root))) {
    for (const match of fs.readFileSync(file, 'utf8').matchAll(IMPORT_OF_WORKSPACE_PACKAGE)) {
      const name = match[2]!;
      if (workspaceNames.has(name)) deps.add(name);
    }
  }
  deps.delete(pkg.name);
  return deps;
}

/** `changed` plus every package that depends on it, directly or transitively. */
export function dependentsClosure(changed: string, packages: WorkspacePackage[]): Set<string> {
  const names = new Set(packages.map((p) => p.name));
  const dependsOn = new Map(packages.map((p) => [p.name, workspaceDependenciesOf(p, names)]));
  const affected = new Set([changed]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [name, deps] of dependsOn) {
      if (!affected.has(name) && [...deps].some((d) => affected.has(d))) {
        affected.add(name);
        grew = true;
      }
    }
  }
  return affected;
}
