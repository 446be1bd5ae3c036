import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NX_ENV, WORKSPACE_ROOT } from './workspace';

export interface LintMessage {
  ruleId: string | null;
  severity: number;
  message: string;
}
export interface LintCase {
  filePath: string; // workspace-relative
  code: string;
}
export interface LintRun {
  results: Map<string, LintMessage[]>; // keyed by LintCase.filePath + '\n' + code
  output: string; // whatever the plugins printed besides the results (e.g. the Nx "No cached ProjectGraph" warning)
}

const RESULT_MARKER = '--- lint-text results ---';

export const caseKey = (c: LintCase): string => `${c.filePath}\n${c.code}`;

/** Lints the snippets in one child process (see support/lint-text.mjs for why it is a child process). */
export function lintTexts(cases: LintCase[], env: NodeJS.ProcessEnv = NX_ENV): Promise<LintRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'lint-text.mjs')], { cwd: WORKSPACE_ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const at = stdout.lastIndexOf(RESULT_MARKER);
      if (code !== 0 || at < 0) return reject(new Error(`lint-text exited ${code}\n${stdout}\n${stderr}`));
      const parsed = JSON.parse(stdout.slice(at + RESULT_MARKER.length)) as { filePath: string; messages: LintMessage[] }[];
      const results = new Map(parsed.map((r, i) => [caseKey(cases[i]!), r.messages]));
      resolve({ results, output: stdout.slice(0, at) + stderr });
    });
    child.stdin.end(JSON.stringify({ cwd: WORKSPACE_ROOT, cases }));
  });
}

/** A project that exists only in a copy of the Nx graph (see graphWithExtraProjects). */
export interface ProbeProject {
  name: string;
  root: string;
  tags: string[];
}

/**
 * A copy of the cached Nx graph (.nx/workspace-data) with extra projects added, for the
 * @nx/enforce-module-boundaries rule to read through NX_WORKSPACE_DATA_DIRECTORY. Lets a test prove app -> app
 * imports, or imports across scopes, are rejected before such projects exist. The caller removes `dir`.
 */
export function graphWithExtraProjects(projects: ProbeProject[]): { dir: string; env: NodeJS.ProcessEnv } {
  const source = path.join(WORKSPACE_ROOT, '.nx', 'workspace-data');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-graph-'));
  for (const file of fs.readdirSync(source)) {
    if (file.endsWith('.json')) fs.copyFileSync(path.join(source, file), path.join(dir, file));
  }
  const graphFile = path.join(dir, 'project-graph.json');
  const fileMapFile = path.join(dir, 'file-map.json');
  const graph = JSON.parse(fs.readFileSync(graphFile, 'utf8'));
  const fileMap = JSON.parse(fs.readFileSync(fileMapFile, 'utf8'));
  // Same node type as the real projects of that type tag get (package.json-inferred projects are 'lib' unless they set projectType).
  const nodes = Object.values(graph.nodes as Record<string, { type: string; data: { tags?: string[] } }>);
  const nodeTypeOf = (typeTag: string | undefined) => nodes.find((node) => typeTag && node.data.tags?.includes(typeTag))?.type ?? 'lib';
  for (const { name, root, tags } of projects) {
    graph.nodes[name] = {
      name,
      type: nodeTypeOf(tags.find((t) => t.startsWith('type:'))),
      data: {
        root,
        name,
        tags,
        targets: {},
        implicitDependencies: [],
        metadata: { js: { packageName: name, packageMain: 'src/main.ts', isInPackageManagerWorkspaces: true } },
      },
    };
    graph.dependencies[name] = [];
    fileMap.fileMap.projectFileMap[name] = [];
  }
  fs.writeFileSync(graphFile, JSON.stringify(graph));
  fs.writeFileSync(fileMapFile, JSON.stringify(fileMap));
  return { dir, env: { ...NX_ENV, NX_WORKSPACE_DATA_DIRECTORY: dir } };
}

/** graphWithExtraProjects for apps tagged type:app and scope:<folder name>. */
export function graphWithExtraApps(apps: { name: string; root: string }[]): { dir: string; env: NodeJS.ProcessEnv } {
  return graphWithExtraProjects(apps.map((app) => ({ ...app, tags: ['type:app', `scope:${path.basename(app.root)}`] })));
}
