import fs from 'node:fs';
import { caseKey, graphWithExtraApps, LintCase, LintMessage, LintRun, lintTexts } from './support/lint';
import { nxProjects, workspacePackages } from './support/workspace';

// Snippets are assembled from module specifiers so that this file contains no import statement of a workspace
// package itself (the affected-graph test scans sources for those).
let n = 0;
const importAll = (specifier: string) => `import * as m${++n} from '${specifier}';\nexport const use${n} = [m${n}];\n`;
const sideEffectImport = (specifier: string) => `import '${specifier}';\n`;

// Nx reports an app dependency either through the tag constraint or, for projects typed 'application', with its own
// "Imports of apps are forbidden"; either way under @nx/enforce-module-boundaries.
const APP_IMPORT_REJECTED = /A project tagged with "type:app" can only depend on libs tagged with "type:lib", "type:tooling"|Imports of apps are forbidden/;
const LIB_TAG_REJECTED = /A project tagged with "type:lib" can only depend on libs tagged with "type:lib"|Imports of apps are forbidden/;

const boundaryMessages = (messages: LintMessage[]) => messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries');
const restrictedImportMessages = (messages: LintMessage[]) => messages.filter((m) => m.ruleId === 'no-restricted-imports');

const packages = workspacePackages();
const apps = packages.filter((p) => p.tags.includes('type:app'));
const libs = packages.filter((p) => p.tags.includes('type:lib'));
const tooling = packages.filter((p) => p.tags.includes('type:tooling'));
const inventory = apps.find((p) => p.name === '@orderflow/inventory') ?? apps[0];

// A second app that exists only in a copy of the Nx graph (see graphWithExtraApps).
const PROBE_APP = { name: '@orderflow/boundary-probe-app', root: 'apps/boundary-probe-app' };

const DRIVERS_AND_TRANSPORTS = ['sequelize', 'mysql2', 'mysql2/promise', 'ioredis', 'redlock', 'nats', '@grpc/grpc-js', '@grpc/proto-loader', 'fastify', '@fastify/cors', 'pino'];
const ADAPTER_IMPORTS = ['../infrastructure/sequelize.inventory-store', '../entry-points/inventory.grpc-handler', '../infrastructure'];

const realGraphCases = {
  appImportsLibAndTooling: { filePath: `${inventory?.root}/src/uses-libs.ts`, code: importAll('@orderflow/proto') + importAll('@orderflow/stack') },
  appImportsLibByRelativePath: { filePath: `${inventory?.root}/src/reaches-into-lib.ts`, code: sideEffectImport('../../../libs/proto/src/index') },
  libImportsApp: { filePath: 'libs/database/src/imports-app.ts', code: importAll(inventory?.name ?? '@orderflow/inventory') },
  libImportsTooling: { filePath: 'libs/database/src/imports-tooling.ts', code: importAll('@orderflow/stack') },
  domainDrivers: DRIVERS_AND_TRANSPORTS.map((specifier) => ({ filePath: 'apps/inventory/src/domain/uses-driver.ts', code: importAll(specifier) })),
  domainAdapters: [
    ...ADAPTER_IMPORTS.map((specifier) => ({ filePath: 'apps/inventory/src/domain/uses-adapter.ts', code: sideEffectImport(specifier) })),
    { filePath: 'apps/inventory/src/domain/reservations/deep.ts', code: sideEffectImport('../../entry-points/grpc-error.mapper') },
  ],
  shardingDrivers: ['mysql2/promise', 'sequelize', 'ioredis', '@grpc/grpc-js'].map((specifier) => ({ filePath: 'libs/sharding/src/uses-driver.ts', code: importAll(specifier) })),
  cleanDomain: {
    filePath: 'apps/inventory/src/domain/clean.ts',
    code:
      importAll('./reservation') +
      importAll('node:crypto') +
      'export interface StockPort {\n  reserve(sku: string, quantity: number): Promise<boolean>;\n}\n' +
      'export function canReserve(available: number, quantity: number): boolean {\n  return quantity > 0 && quantity <= available;\n}\n',
  },
  driverOutsideDomain: { filePath: 'apps/inventory/src/infrastructure/uses-driver.ts', code: importAll('sequelize') + importAll('ioredis') },
};
const probeGraphCases = {
  appImportsAppByName: { filePath: `${inventory?.root}/src/imports-probe-app.ts`, code: importAll(PROBE_APP.name) },
  appImportsAppByRelativePath: { filePath: `${inventory?.root}/src/reaches-into-probe-app.ts`, code: sideEffectImport(`../../${PROBE_APP.root.split('/')[1]}/src/main`) },
  libImportsProbeApp: { filePath: 'libs/database/src/imports-probe-app.ts', code: importAll(PROBE_APP.name) },
  probeAppImportsInventory: { filePath: `${PROBE_APP.root}/src/main.ts`, code: importAll(inventory?.name ?? '@orderflow/inventory') },
};

const allCases = (cases: Record<string, LintCase | LintCase[]>) => Object.values(cases).flat();

let real: LintRun;
let probe: LintRun;
const messagesOf = (run: LintRun, c: LintCase): LintMessage[] => {
  const messages = run.results.get(caseKey(c));
  if (!messages) throw new Error(`no lint result for ${c.filePath}`);
  return messages;
};

beforeAll(async () => {
  // @nx/enforce-module-boundaries reads the *cached* project graph; refresh it so it matches the workspace on disk.
  await nxProjects();
  real = await lintTexts(allCases(realGraphCases));
  const graph = graphWithExtraApps([PROBE_APP]);
  try {
    probe = await lintTexts(allCases(probeGraphCases), graph.env);
  } finally {
    fs.rmSync(graph.dir, { recursive: true, force: true });
  }
}, 60_000);

describe('module boundaries (@nx/enforce-module-boundaries with type:* tags)', () => {
  it('when the lint runs, then the Nx rule found a cached project graph (it silently skips itself otherwise)', () => {
    expect(inventory).toBeDefined();
    expect(real.output).not.toMatch(/No cached ProjectGraph/);
    expect(probe.output).not.toMatch(/No cached ProjectGraph/);
  });

  it('when an app imports another app by its package name, then the import is reported', () => {
    const messages = boundaryMessages(messagesOf(probe, probeGraphCases.appImportsAppByName));
    expect(messages).toEqual([expect.objectContaining({ severity: 2, message: expect.stringMatching(APP_IMPORT_REJECTED) })]);
  });

  it('when an app reaches into another app with a relative path, then the import is reported', () => {
    const messages = boundaryMessages(messagesOf(probe, probeGraphCases.appImportsAppByRelativePath));
    expect(messages).toEqual([expect.objectContaining({ severity: 2, message: expect.stringMatching(/cannot be imported by a relative or absolute path/) })]);
  });

  it('when another app imports inventory, then the import is reported', () => {
    const messages = boundaryMessages(messagesOf(probe, probeGraphCases.probeAppImportsInventory));
    expect(messages).toEqual([expect.objectContaining({ severity: 2, message: expect.stringMatching(APP_IMPORT_REJECTED) })]);
  });

  it('when an app imports a lib and a tooling project by package name, then nothing is reported', () => {
    expect(messagesOf(real, realGraphCases.appImportsLibAndTooling)).toEqual([]);
  });

  it('when an app imports a lib by a relative path, then the import is reported', () => {
    const messages = boundaryMessages(messagesOf(real, realGraphCases.appImportsLibByRelativePath));
    expect(messages).toEqual([expect.objectContaining({ severity: 2, message: expect.stringMatching(/cannot be imported by a relative or absolute path/) })]);
  });

  it('when a lib imports an app, then the import is reported', () => {
    const messages = boundaryMessages(messagesOf(probe, probeGraphCases.libImportsProbeApp));
    expect(messages).toEqual([expect.objectContaining({ severity: 2, message: expect.stringMatching(LIB_TAG_REJECTED) })]);
  });

  it('when a lib imports an app that depends on it, then the import is reported (tag or circular-dependency error)', () => {
    const messages = boundaryMessages(messagesOf(real, realGraphCases.libImportsApp));
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.every((m) => m.severity === 2 && (LIB_TAG_REJECTED.test(m.message) || /Circular dependency/.test(m.message)))).toBe(true);
  });

  it('when a lib imports a tooling project, then the import is reported', () => {
    const messages = boundaryMessages(messagesOf(real, realGraphCases.libImportsTooling));
    expect(messages).toEqual([
      expect.objectContaining({ severity: 2, message: expect.stringContaining('A project tagged with "type:lib" can only depend on libs tagged with "type:lib"') }),
    ]);
  });

  it('when the workspace is read, then every project carries exactly one type tag and there is at least one lib and one tooling project', () => {
    for (const p of packages) expect({ project: p.name, typeTags: p.tags.filter((t) => t.startsWith('type:')).length }).toEqual({ project: p.name, typeTags: 1 });
    expect(libs.length).toBeGreaterThan(0);
    expect(tooling.length).toBeGreaterThan(0);
  });
});

describe('domain purity (no-restricted-imports)', () => {
  it.each(realGraphCases.domainDrivers.map((c) => [c.code.match(/from '([^']+)'/)![1], c]))(
    'when a domain file imports %s, then no-restricted-imports reports it',
    (_specifier, c) => {
      expect(restrictedImportMessages(messagesOf(real, c as LintCase))).toEqual([
        expect.objectContaining({ severity: 2, message: expect.stringMatching(/Domain code must stay free of drivers and transports/) }),
      ]);
    },
  );

  it.each(realGraphCases.domainAdapters.map((c) => [c.filePath, c.code.trim(), c]))(
    'when domain file %s does %s, then no-restricted-imports reports it',
    (_file, _code, c) => {
      expect(restrictedImportMessages(messagesOf(real, c as LintCase))).toEqual([
        expect.objectContaining({ severity: 2, message: expect.stringMatching(/Domain code must stay free of drivers and transports/) }),
      ]);
    },
  );

  it.each(realGraphCases.shardingDrivers.map((c) => [c.code.match(/from '([^']+)'/)![1], c]))(
    'when libs/sharding imports %s, then no-restricted-imports reports it',
    (_specifier, c) => {
      expect(restrictedImportMessages(messagesOf(real, c as LintCase))).toEqual([
        expect.objectContaining({ severity: 2, message: expect.stringMatching(/Domain code must stay free of drivers and transports/) }),
      ]);
    },
  );

  it('when a domain file imports only domain code and node built-ins, then nothing is reported', () => {
    expect(messagesOf(real, realGraphCases.cleanDomain)).toEqual([]);
  });

  it('when an infrastructure file imports drivers, then no-restricted-imports stays quiet (the ban is scoped to the domain)', () => {
    expect(messagesOf(real, realGraphCases.driverOutsideDomain)).toEqual([]);
  });
});
