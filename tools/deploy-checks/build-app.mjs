#!/usr/bin/env node
/**
 * Bundles one app for production: `node tools/deploy-checks/build-app.mjs <app> [--outdir DIR]`.
 *
 * Writes DIR/apps/<app>/ (DIR defaults to <root>/dist):
 *   main.js, main.js.map          the app and the workspace libs it imports, as one CommonJS file
 *   generated/descriptor-set.binpb  read at run time by libs/proto (path.resolve(__dirname, 'generated', ...):
 *                                   inside the bundle __dirname is the bundle's folder)
 *   build-meta.json               the npm packages left external, for the Dockerfile checks
 *
 * npm packages stay external (the image installs them with `npm ci --omit=dev`), except packages that
 * npm nested inside a workspace folder (apps/gateway/node_modules/ajv is ajv 8 while the root has
 * eslint's ajv 6): a bundle in dist/ cannot reach those by Node's lookup, so they are bundled in.
 */
import { build } from 'esbuild';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const APPS = ['gateway', 'order-command', 'inventory', 'order-query'];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const rootModules = path.join(root, 'node_modules') + path.sep;
const builtins = new Set(builtinModules);

/** The package name of a bare import ("@grpc/grpc-js/build/x" -> "@grpc/grpc-js"). */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Externals are the packages Node will find from dist/ exactly where esbuild found them: <root>/node_modules/<name>. */
const externalsPlugin = {
  name: 'orderflow-externals',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind === 'entry-point' || args.pluginData === 'resolving') return undefined;
      const name = packageName(args.path);
      if (args.path.startsWith('node:') || builtins.has(name)) return { path: args.path, external: true };
      const resolved = await pluginBuild.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: 'resolving' });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      if (resolved.path.startsWith(rootModules + name + path.sep)) return { path: args.path, external: true };
      return { path: resolved.path, sideEffects: resolved.sideEffects };
    });
  },
};

export async function buildApp(app, outRoot = path.join(root, 'dist')) {
  if (!APPS.includes(app)) throw new Error(`unknown app "${app}": one of ${APPS.join(', ')}`);
  const outdir = path.join(outRoot, 'apps', app);
  fs.rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: [path.join(root, 'apps', app, 'src', 'main.ts')],
    outfile: path.join(outdir, 'main.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    keepNames: true, // error and class names show up in logs
    metafile: true,
    logLevel: 'warning',
    plugins: [externalsPlugin],
  });
  const generated = path.join(outdir, 'generated');
  fs.mkdirSync(generated, { recursive: true });
  fs.copyFileSync(path.join(root, 'libs', 'proto', 'src', 'generated', 'descriptor-set.binpb'), path.join(generated, 'descriptor-set.binpb'));

  const externals = new Set();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external || imported.path.startsWith('node:') || builtins.has(packageName(imported.path))) continue;
      externals.add(packageName(imported.path));
    }
  }
  const bundledPackages = new Set();
  const workspaceLibs = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const nested = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (nested) bundledPackages.add(nested[1]);
    const lib = /^libs\/([^/]+)\//.exec(input);
    if (lib) workspaceLibs.add(lib[1]);
  }
  const meta = { app, externals: [...externals].sort(), bundledPackages: [...bundledPackages].sort(), workspaceLibs: [...workspaceLibs].sort() };
  fs.writeFileSync(path.join(outdir, 'build-meta.json'), JSON.stringify(meta, null, 2) + '\n');
  return { outdir, ...meta };
}

async function main(argv) {
  const outIndex = argv.indexOf('--outdir');
  const outRoot = outIndex >= 0 ? path.resolve(argv[outIndex + 1] ?? '') : undefined;
  const apps = argv.filter((arg, i) => !arg.startsWith('--') && argv[i - 1] !== '--outdir');
  if (apps.length === 0) {
    console.error(`usage: node tools/deploy-checks/build-app.mjs <${APPS.join('|')}>... [--outdir DIR]`);
    return 2;
  }
  for (const app of apps) {
    const started = Date.now();
    const { outdir, externals } = await buildApp(app, outRoot);
    console.log(`${app}: ${path.relative(process.cwd(), path.join(outdir, 'main.js'))} (${externals.length} external packages, ${Date.now() - started} ms)`);
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
