import { createRequire } from 'node:module';
import path from 'node:path';
import yaml from 'js-yaml';
import ts from 'typescript';
import { isObject, onPath, ROOT, run } from './workspace';

/** A rendered Kubernetes object: just enough shape for the checks; the schemas check the rest. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [key: string]: unknown;
}

export const nameOf = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

/** kubectl is preinstalled on this kind of machine and is not in Debian's archive: nothing to install. */
export function requireKubectl(): void {
  if (!onPath('kubectl')) {
    throw new Error(
      'kubectl is not on the PATH. The Kubernetes checks render deploy/k8s with `kubectl kustomize` (offline). ' +
        "Install kubectl (https://kubernetes.io/docs/tasks/tools/; it is not in Debian bookworm's archive) and run again.",
    );
  }
}

export function renderKustomization(relativeDir: string): K8sObject[] {
  const result = run('kubectl', ['kustomize', path.join(ROOT, relativeDir)], { timeoutMs: 60_000 });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${relativeDir} failed:\n${result.stderr}`);
  const objects = yaml.loadAll(result.stdout).filter(isObject) as K8sObject[];
  if (objects.length === 0) throw new Error(`kubectl kustomize ${relativeDir} rendered nothing`);
  return objects;
}

const load = createRequire(__filename);

/**
 * The Kubernetes OpenAPI schemas as compiled by kubernetes-models 4.5 (Kubernetes 1.31+; ajv validators
 * generated from the API's own OpenAPI document, shipped in the npm package): types, required fields,
 * enums and formats. Unknown kinds are a problem, never a silent pass.
 */
export function schemaProblems(object: K8sObject): string[] {
  let model: unknown;
  try {
    model = (load(`kubernetes-models/${object.apiVersion}/${object.kind}`) as Record<string, unknown>)[object.kind];
  } catch {
    return [`${nameOf(object)}: no schema for ${object.apiVersion} ${object.kind}`];
  }
  try {
    new (model as new (data: unknown) => { validate(): void })(object).validate();
    return [];
  } catch (error) {
    return [`${nameOf(object)}: ${(error as Error).message}`];
  }
}

/**
 * The strict half ("standalone-strict"): a field the API does not define is an error, not ignored.
 * kubernetes-models' validators allow unknown properties (as the API server's non-strict mode does), so
 * each object is type-checked as an object literal against kubernetes-models' TypeScript interface of
 * its kind: TypeScript's excess-property check rejects every unknown field, at any depth.
 */
export function strictProblems(objects: K8sObject[]): string[] {
  const fileName = path.join(__dirname, '__rendered_manifests__.ts');
  const source = objects
    .map(
      (o, i) =>
        `import type { I${o.kind} as T${i} } from ${JSON.stringify(`kubernetes-models/${o.apiVersion}/${o.kind}`)};\n` +
        `export const o${i}: T${i} = ${JSON.stringify(o, null, 1)};\n`,
    )
    .join('');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
    types: [],
    lib: ['lib.es2022.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) =>
    name === fileName ? ts.createSourceFile(name, source, languageVersion, true) : getSourceFile(name, languageVersion, ...rest);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  const sourceFile = program.getSourceFile(fileName);
  const statements = sourceFile?.statements.filter(ts.isVariableStatement) ?? [];
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    const index = statements.findIndex((s) => diagnostic.start !== undefined && diagnostic.start >= s.getStart() && diagnostic.start < s.getEnd());
    const object = objects[index];
    return object ? `${nameOf(object)}: ${message}` : message;
  });
}
