import fs from 'node:fs';
import { caseKey, graphWithExtraProjects, LintCase, LintMessage, LintRun, lintTexts } from './support/lint';
import { nxProjects, workspacePackages } from './support/workspace';

// Snippets are assembled from module specifiers so that this file contains no import statement of a workspace
// package itself (the affected-graph test scans sources for those).
let n = 0;
const importAll = (specifier: string) => `import * as m${++n} from '${specifier}';\nexport const use${n} = [m${n}];\n`;
const sideEffectImport = (specifier: string) => `import '${specifier}';\n`;

// Nx reports an app dependency either through the tag constraint or, for projects typed 'application', with its own
// "Imports of apps are forbidden"; either way under @nx/enforce-module-boundaries.
// (In an app's src/ the constraint lists "type:lib" only; in its test/ and bench/ also "type:tooling".)
const APP_IMPORT_REJECTED = /A project tagged with "type:app" can only depend on libs tagged with "type:lib"|Imports of apps are forbidden/;
const LIB_TAG_REJECTED = /A project tagged with "type:lib" can only depend on libs tagged with "type:lib"|Imports of apps are forbidden/;

/** Exactly one lint error, its message matching the pattern (or containing the text). */
const oneError = (message: RegExp | string) => [
  expect.objectContaining({ severity: 2, message: typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message) }),
];
const DOMAIN_DRIVER_REJECTED = /Domain code must stay free of drivers and transports/;

const boundaryMessages = (messages: LintMessage[]) => messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries');
const restrictedImportMessages = (messages: LintMessage[]) => messages.filter((m) => m.ruleId === 'no-restricted-imports');
const wrapperLibMessages = (messages: LintMessage[]) => messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports');
const WRAPPER_LIB_REJECTED = /Domain code imports only the pure exports of the libs that wrap drivers and transports/;
const scopeRejected = (scope: string, allowed: string[]) =>
  `A project tagged with "scope:${scope}" can only depend on libs tagged with ${allowed.map((t) => `"scope:${t}"`).join(', ')}`;

const packages = workspacePackages();
const apps = packages.filter((p) => p.tags.includes('type:app'));
const libs = packages.filter((p) => p.tags.includes('type:lib'));
const tooling = packages.filter((p) => p.tags.includes('type:tooling'));
const inventory = apps.find((p) => p.name === '@orderflow/inventory') ?? apps[0];

// Projects that exist only in a copy of the Nx graph (see graphWithExtraProjects): a second app, and a lib of the order
// scope (what order-command and order-query might one day share).
const PROBE_APP = { name: '@orderflow/boundary-probe-app', root: 'apps/boundary-probe-app', tags: ['type:app', 'scope:boundary-probe-app'] };
const ORDER_LIB = { name: '@orderflow/order-probe-lib', root: 'libs/order-probe-lib', tags: ['type:lib', 'scope:order'] };

const DRIVERS_AND_TRANSPORTS = [
  'sequelize',
  'mysql2',
  'mysql2/promise',
  'ioredis',
  'redlock',
  'nats',
  '@grpc/grpc-js',
  '@grpc/proto-loader',
  'fastify',
  '@fastify/cors',
  'pino',
];
// The scope of the workspace's packages, spelled apart in the sample sources below so this file's own
// dependencies (read from its import statements by support/workspace.ts) stay what it really imports.
const ORDERFLOW = '@orderflow';
const ADAPTER_IMPORTS = ['../infrastructure/mysql/inventory.store', '../entry-points/inventory.grpc-handler', '../infrastructure'];

const realGraphCases = {
  appImportsLib: { filePath: `${inventory?.root}/src/uses-libs.ts`, code: importAll('@orderflow/proto') + importAll('@orderflow/service-kit') },
  appSourceImportsTooling: { filePath: `${inventory?.root}/src/uses-tooling.ts`, code: importAll('@orderflow/stack') },
  appSpecImportsTooling: { filePath: `${inventory?.root}/src/domain/uses-tooling.spec.ts`, code: importAll('@orderflow/stack') },
  appTestsImportTooling: [
    { filePath: `${inventory?.root}/test/uses-tooling.spec.ts`, code: importAll('@orderflow/proto') + importAll('@orderflow/stack') },
    { filePath: `${inventory?.root}/bench/uses-tooling.ts`, code: importAll('@orderflow/proto') + importAll('@orderflow/stack') },
  ],
  appImportsLibByRelativePath: { filePath: `${inventory?.root}/src/reaches-into-lib.ts`, code: sideEffectImport('../../../libs/proto/src/index') },
  libImportsApp: { filePath: 'libs/database/src/imports-app.ts', code: importAll(inventory?.name ?? '@orderflow/inventory') },
  libImportsTooling: { filePath: 'libs/database/src/imports-tooling.ts', code: importAll('@orderflow/stack') },
  domainDrivers: DRIVERS_AND_TRANSPORTS.map((specifier) => ({ filePath: 'apps/inventory/src/domain/uses-driver.ts', code: importAll(specifier) })),
  domainAdapters: [
    ...ADAPTER_IMPORTS.map((specifier) => ({ filePath: 'apps/inventory/src/domain/uses-adapter.ts', code: sideEffectImport(specifier) })),
    { filePath: 'apps/inventory/src/domain/reservations/deep.ts', code: sideEffectImport('../../entry-points/grpc-error.mapper') },
  ],
  domainWrapperLibs: [
    importAll('@orderflow/database'),
    `import { Sequelize } from '${ORDERFLOW}/database';\nexport const s = Sequelize;\n`,
    `import type { SqlPool } from '${ORDERFLOW}/database';\nexport type P = SqlPool;\n`,
    `import { withProducerSpan } from '${ORDERFLOW}/telemetry';\nexport const w = withProducerSpan;\n`,
    `import { JetStreamPublisher } from '${ORDERFLOW}/messaging';\nexport const j = JetStreamPublisher;\n`,
    `import { createLogger } from '${ORDERFLOW}/service-kit';\nexport const c = createLogger;\n`,
    `import type { Logger } from '${ORDERFLOW}/service-kit';\nexport type L = Logger;\n`,
    `import { loadPackageDefinition } from '${ORDERFLOW}/proto';\nexport const l = loadPackageDefinition;\n`,
    importAll('@orderflow/proto'),
    sideEffectImport('@orderflow/database/src/sql'),
  ].map((code) => ({ filePath: 'apps/order-command/src/domain/uses-wrapper-lib.ts', code })),
  domainPureLibExports: [
    `import { DEFAULT_ORDER_LIMITS, type OrderLimits } from '${ORDERFLOW}/proto';\nexport const limits: OrderLimits = DEFAULT_ORDER_LIMITS;\n`,
    `import type { orderV1 } from '${ORDERFLOW}/proto';\nexport type Order = orderV1.Order;\n`,
    `import { retry } from '${ORDERFLOW}/service-kit';\nexport const r = retry;\n`,
    `import { ORDER_EVENT_KINDS, type OrderEventKind } from '${ORDERFLOW}/messaging';\nexport const kinds: readonly OrderEventKind[] = ORDER_EVENT_KINDS;\n`,
    `import { bucketForCustomer } from '${ORDERFLOW}/sharding';\nexport const b = bucketForCustomer;\n`,
  ].map((code) => ({ filePath: 'apps/order-command/src/domain/uses-pure-exports.ts', code })),
  wrapperLibsOutsideDomain: {
    filePath: 'apps/order-command/src/infrastructure/uses-wrapper-libs.ts',
    code: importAll('@orderflow/database') + importAll('@orderflow/messaging') + importAll('@orderflow/telemetry'),
  },
  shardingDrivers: ['mysql2/promise', 'sequelize', 'ioredis', '@grpc/grpc-js'].map((specifier) => ({
    filePath: 'libs/sharding/src/uses-driver.ts',
    code: importAll(specifier),
  })),
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
  appImportsAppByRelativePath: {
    filePath: `${inventory?.root}/src/reaches-into-probe-app.ts`,
    code: sideEffectImport(`../../${PROBE_APP.root.split('/')[1]}/src/main`),
  },
  libImportsProbeApp: { filePath: 'libs/database/src/imports-probe-app.ts', code: importAll(PROBE_APP.name) },
  probeAppImportsInventory: { filePath: `${PROBE_APP.root}/src/main.ts`, code: importAll(inventory?.name ?? '@orderflow/inventory') },
  gatewayImportsOrderLib: { filePath: 'apps/gateway/src/uses-order-lib.ts', code: importAll(ORDER_LIB.name) },
  inventoryImportsOrderLib: { filePath: 'apps/inventory/src/uses-order-lib.ts', code: importAll(ORDER_LIB.name) },
  sharedLibImportsOrderLib: { filePath: 'libs/database/src/uses-order-lib.ts', code: importAll(ORDER_LIB.name) },
  orderAppsImportOrderLib: ['order-command', 'order-query'].map((app) => ({ filePath: `apps/${app}/src/uses-order-lib.ts`, code: importAll(ORDER_LIB.name) })),
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
  const graph = graphWithExtraProjects([PROBE_APP, ORDER_LIB]);
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
    expect(messages).toEqual(oneError(APP_IMPORT_REJECTED));
  });

  it('when an app reaches into another app with a relative path, then the import is reported', () => {
    const messages = boundaryMessages(messagesOf(probe, probeGraphCases.appImportsAppByRelativePath));
    expect(messages).toEqual(oneError(/cannot be imported by a relative or absolute path/));
  });

  it('when another app imports inventory, then the import is reported', () => {
    const messages = boundaryMessages(messagesOf(probe, probeGraphCases.probeAppImportsInventory));
    expect(messages).toEqual(oneError(APP_IMPORT_REJECTED));
  });

  it('when an app imports libs by package name, then nothing is reported', () => {
    expect(messagesOf(real, realGraphCases.appImportsLib)).toEqual([]);
  });

  it("when an app's src/ imports a tooling project (libs/stack runs apt-get), then the import is reported", () => {
    const messages = boundaryMessages(messagesOf(real, realGraphCases.appSourceImportsTooling));
    expect(messages).toEqual(oneError('A project tagged with "type:app" can only depend on libs tagged with "type:lib"'));
  });

  it("when a unit spec beside an app's code imports a tooling project, then the import is reported (unit specs need no stack)", () => {
    const messages = boundaryMessages(messagesOf(real, realGraphCases.appSpecImportsTooling));
    expect(messages).toEqual(oneError('A project tagged with "type:app" can only depend on libs tagged with "type:lib"'));
  });

  it.each(realGraphCases.appTestsImportTooling.map((c) => [c.filePath, c]))(
    'when %s imports a lib and a tooling project, then nothing is reported',
    (_file, c) => {
      expect(messagesOf(real, c as LintCase)).toEqual([]);
    },
  );

  it('when an app imports a lib by a relative path, then the import is reported', () => {
    const messages = boundaryMessages(messagesOf(real, realGraphCases.appImportsLibByRelativePath));
    expect(messages).toEqual(oneError(/cannot be imported by a relative or absolute path/));
  });

  it('when a lib imports an app, then the import is reported', () => {
    const messages = boundaryMessages(messagesOf(probe, probeGraphCases.libImportsProbeApp));
    expect(messages).toEqual(oneError(LIB_TAG_REJECTED));
  });

  it('when a lib imports an app that depends on it, then the import is reported (tag or circular-dependency error)', () => {
    const messages = boundaryMessages(messagesOf(real, realGraphCases.libImportsApp));
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.every((m) => m.severity === 2 && (LIB_TAG_REJECTED.test(m.message) || /Circular dependency/.test(m.message)))).toBe(true);
  });

  it('when a lib imports a tooling project, then the import is reported', () => {
    const messages = boundaryMessages(messagesOf(real, realGraphCases.libImportsTooling));
    expect(messages).toEqual(oneError('A project tagged with "type:lib" can only depend on libs tagged with "type:lib"'));
  });

  it('when the workspace is read, then every project has exactly one type tag and one scope tag and there is at least one lib and one tooling project', () => {
    for (const p of packages)
      expect({ project: p.name, typeTags: p.tags.filter((t) => t.startsWith('type:')).length }).toEqual({ project: p.name, typeTags: 1 });
    for (const p of packages)
      expect({ project: p.name, scopeTags: p.tags.filter((t) => t.startsWith('scope:')).length }).toEqual({ project: p.name, scopeTags: 1 });
    // Libs and tooling are shared; each app's scope is one the lint rule constrains.
    for (const p of [...libs, ...tooling])
      expect({ project: p.name, tags: p.tags }).toEqual({ project: p.name, tags: expect.arrayContaining(['scope:shared']) });
    for (const p of apps)
      expect({ project: p.name, scope: ['scope:gateway', 'scope:inventory', 'scope:order'].some((t) => p.tags.includes(t)) }).toEqual({
        project: p.name,
        scope: true,
      });
    expect(libs.length).toBeGreaterThan(0);
    expect(tooling.length).toBeGreaterThan(0);
  });
});

describe('scopes (@nx/enforce-module-boundaries with scope:* tags)', () => {
  it.each([
    ['gateway', 'gatewayImportsOrderLib'],
    ['inventory', 'inventoryImportsOrderLib'],
  ] as const)('when the %s app imports a lib of the order scope, then the import is reported', (scope, key) => {
    const messages = boundaryMessages(messagesOf(probe, probeGraphCases[key]));
    expect(messages).toEqual(oneError(scopeRejected(scope, [scope, 'shared'])));
  });

  it('when a shared lib imports a lib of the order scope, then the import is reported', () => {
    const messages = boundaryMessages(messagesOf(probe, probeGraphCases.sharedLibImportsOrderLib));
    expect(messages).toEqual(oneError(scopeRejected('shared', ['shared'])));
  });

  it.each(probeGraphCases.orderAppsImportOrderLib.map((c) => [c.filePath, c]))(
    'when %s (scope:order) imports a lib of its own scope, then nothing is reported',
    (_file, c) => {
      expect(messagesOf(probe, c as LintCase)).toEqual([]);
    },
  );
});

describe('domain purity (no-restricted-imports)', () => {
  it.each(realGraphCases.domainDrivers.map((c) => [c.code.match(/from '([^']+)'/)![1], c]))(
    'when a domain file imports %s, then no-restricted-imports reports it',
    (_specifier, c) => {
      expect(restrictedImportMessages(messagesOf(real, c as LintCase))).toEqual(oneError(DOMAIN_DRIVER_REJECTED));
    },
  );

  it.each(realGraphCases.domainAdapters.map((c) => [c.filePath, c.code.trim(), c]))(
    'when domain file %s does %s, then no-restricted-imports reports it',
    (_file, _code, c) => {
      expect(restrictedImportMessages(messagesOf(real, c as LintCase))).toEqual(oneError(DOMAIN_DRIVER_REJECTED));
    },
  );

  it.each(realGraphCases.shardingDrivers.map((c) => [c.code.match(/from '([^']+)'/)![1], c]))(
    'when libs/sharding imports %s, then no-restricted-imports reports it',
    (_specifier, c) => {
      expect(restrictedImportMessages(messagesOf(real, c as LintCase))).toEqual(oneError(DOMAIN_DRIVER_REJECTED));
    },
  );

  it('when a domain file imports only domain code and node built-ins, then nothing is reported', () => {
    expect(messagesOf(real, realGraphCases.cleanDomain)).toEqual([]);
  });

  it.each(realGraphCases.domainWrapperLibs.map((c) => [c.code.split('\n')[0], c]))(
    'when a domain file does %s, then the import of a driver-wrapping lib is reported',
    (_code, c) => {
      expect(wrapperLibMessages(messagesOf(real, c as LintCase))).toEqual(oneError(WRAPPER_LIB_REJECTED));
    },
  );

  it.each(realGraphCases.domainPureLibExports.map((c) => [c.code.split('\n')[0], c]))(
    'when a domain file does %s (pure exports only), then nothing is reported',
    (_code, c) => {
      expect(messagesOf(real, c as LintCase)).toEqual([]);
    },
  );

  it('when an infrastructure file imports the driver-wrapping libs, then nothing is reported (the ban is scoped to the domain)', () => {
    expect(messagesOf(real, realGraphCases.wrapperLibsOutsideDomain)).toEqual([]);
  });

  it('when an infrastructure file imports drivers, then no-restricted-imports stays quiet (the ban is scoped to the domain)', () => {
    expect(messagesOf(real, realGraphCases.driverOutsideDomain)).toEqual([]);
  });
});
