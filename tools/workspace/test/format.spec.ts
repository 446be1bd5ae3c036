import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WORKSPACE_ROOT, workspacePackages } from './support/workspace';

/**
 * Prettier on the whole tree, checked by lint: every project's lint target runs `prettier --check` on its own
 * files, and workspace-tests' lint on the files outside every project.
 */
const packages = workspacePackages();
const PRETTIER = path.join(WORKSPACE_ROOT, 'node_modules', '.bin', 'prettier');
const lintScript = (name: string) => ((packages.find((p) => p.name === name)?.packageJson.scripts ?? {}) as Record<string, string>).lint ?? '';

/** The paths workspace-tests' lint hands to its second `prettier --check` (after `cd ../..`). */
function rootCheckPatterns(): string[] {
  const script = lintScript('@orderflow/workspace-tests');
  const rootCheck = script.split('cd ../.. && prettier --check ')[1];
  if (!rootCheck) throw new Error(`workspace-tests' lint does not check the files outside the projects: ${script}`);
  return rootCheck.split(/\s+/).map((p) => p.replace(/^'|'$/g, ''));
}

/** A path matched by one of the root check's patterns: a folder, a file, or a top-level `*.{a,b}` glob. */
function coveredByRootCheck(file: string, patterns: string[]): boolean {
  return patterns.some((p) => {
    const glob = /^\*\.\{([\w,]+)\}$/.exec(p);
    if (glob) return !file.includes('/') && glob[1]!.split(',').some((ext) => file.endsWith(`.${ext}`));
    return file === p || file.startsWith(`${p}/`);
  });
}

describe('Prettier in lint', () => {
  it('when a project is linted, then its lint script runs prettier --check on its folder with the root ignore file', () => {
    for (const p of packages)
      expect({ project: p.name, lint: lintScript(p.name) }).toEqual({
        project: p.name,
        lint: expect.stringContaining('prettier --check . --ignore-path ../../.prettierignore'),
      });
  });

  it('when a tracked file is one Prettier formats, then some lint target checks it (its project, or workspace-tests for the rest)', () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: WORKSPACE_ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    const info = JSON.parse(
      execFileSync(process.execPath, [path.join(__dirname, 'support', 'prettier-info.mjs')], {
        cwd: WORKSPACE_ROOT,
        input: tracked.join('\n'),
        encoding: 'utf8',
      }),
    ) as { file: string; ignored: boolean; parser: string | null }[];
    const formatted = info.filter((f) => !f.ignored && f.parser).map((f) => f.file);
    expect(formatted.length).toBeGreaterThan(100);
    const patterns = rootCheckPatterns();
    const unchecked = formatted.filter((file) => !packages.some((p) => file.startsWith(`${p.root}/`)) && !coveredByRootCheck(file, patterns));
    expect(unchecked).toEqual([]);
  });

  it('when generated code, the lock file or Markdown is asked about, then .prettierignore leaves it out', () => {
    const info = JSON.parse(
      execFileSync(process.execPath, [path.join(__dirname, 'support', 'prettier-info.mjs')], {
        cwd: WORKSPACE_ROOT,
        input: ['libs/proto/src/generated/orderflow/order/v1/order.ts', 'package-lock.json', 'README.md', 'libs/proto/src/index.ts'].join('\n'),
        encoding: 'utf8',
      }),
    ) as { file: string; ignored: boolean }[];
    expect(info.map((f) => [f.file, f.ignored])).toEqual([
      ['libs/proto/src/generated/orderflow/order/v1/order.ts', true],
      ['package-lock.json', true],
      ['README.md', true],
      ['libs/proto/src/index.ts', false],
    ]);
  });

  describe('on a scratch project with the workspace config', () => {
    let dir = '';
    const check = () =>
      spawnSync(PRETTIER, ['--check', '.', '--ignore-path', '../../.prettierignore'], { cwd: path.join(dir, 'libs', 'scratch'), encoding: 'utf8' });

    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-format-'));
      for (const file of ['.prettierrc', '.prettierignore']) fs.copyFileSync(path.join(WORKSPACE_ROOT, file), path.join(dir, file));
      fs.mkdirSync(path.join(dir, 'libs', 'scratch', 'src', 'generated'), { recursive: true });
      // Generated code in any shape is left alone.
      fs.writeFileSync(path.join(dir, 'libs', 'scratch', 'src', 'generated', 'x.ts'), 'export const   x = "generated"\n');
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('when a file is not formatted, then the check fails naming it; after prettier --write it passes', () => {
      const file = path.join(dir, 'libs', 'scratch', 'src', 'a.ts');
      fs.writeFileSync(file, 'export const a = {b: "c", d: [1,2,3]}\n');
      const before = check();
      expect(before.status).not.toBe(0);
      expect(before.stdout + before.stderr).toContain('src/a.ts');
      expect(before.stdout + before.stderr).not.toContain('generated');
      execFileSync(PRETTIER, ['--write', 'src/a.ts'], { cwd: path.join(dir, 'libs', 'scratch') });
      expect(fs.readFileSync(file, 'utf8')).toBe("export const a = { b: 'c', d: [1, 2, 3] };\n");
      expect(check().status).toBe(0);
    });

    it('when a line is 160 characters, then it stays one line; at 161 it is broken', () => {
      const file = path.join(dir, 'libs', 'scratch', 'src', 'b.ts');
      /** `export const list = ['item00', ..., 'last...'];` exactly `width` characters long. */
      const line = (width: number) => {
        const items = Array.from({ length: 12 }, (_, i) => `'item${String(i).padStart(2, '0')}'`);
        const head = `export const list = [${items.join(', ')}, '`;
        return `${head}${'x'.repeat(width - head.length - 3)}'];`;
      };
      expect([line(160).length, line(161).length]).toEqual([160, 161]);
      fs.writeFileSync(file, `${line(160)}\n`);
      expect(check().status).toBe(0);
      fs.writeFileSync(file, `${line(161)}\n`);
      expect(check().status).not.toBe(0);
    });
  });
});
