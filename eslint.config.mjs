// Root ESLint 9 flat config. Every project's `lint` script is `eslint .` run from the project folder;
// ESLint 9 looks this file up from the cwd upwards, and all globs below are relative to this (root) folder.
//
// Note: @nx/enforce-module-boundaries reads the *cached* Nx project graph (.nx/workspace-data). `nx run-many -t lint`
// creates it; a bare `npx eslint .` in a fresh checkout skips that rule (with a warning) until some nx command has run.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const TS_FILES = ['**/*.ts', '**/*.cts', '**/*.mts'];
const JS_FILES = ['**/*.js', '**/*.cjs', '**/*.mjs'];

// Drivers and transports that domain code (and the pure sharding lib) must never touch.
const DRIVER_AND_TRANSPORT_MESSAGE =
  'Domain code must stay free of drivers and transports (sequelize, mysql2, ioredis, redlock, nats, gRPC, fastify, pino) ' +
  'and must not reach into infrastructure/ or entry-points/: depend on a port (interface) declared in the domain instead.';

const driverAndTransportPatterns = [
  {
    // Exact package or any deep import of it (e.g. 'mysql2/promise'), but not look-alikes such as 'pino-pretty' or './nats'.
    regex: '^(sequelize|mysql2|ioredis|redlock|nats|fastify|pino)(/.*)?$',
    message: DRIVER_AND_TRANSPORT_MESSAGE,
  },
  { regex: '^@(grpc|fastify)/', message: DRIVER_AND_TRANSPORT_MESSAGE },
];

const layerPatterns = [
  {
    group: ['**/infrastructure', '**/infrastructure/**', '**/entry-points', '**/entry-points/**'],
    message: DRIVER_AND_TRANSPORT_MESSAGE,
  },
];

// Globals of the CommonJS config files (jest.config.js, jest.preset.js, tools/jest/*.js).
const nodeCommonJsGlobals = {
  require: 'readonly',
  module: 'writable',
  exports: 'writable',
  __dirname: 'readonly',
  __filename: 'readonly',
  process: 'readonly',
  console: 'readonly',
  Buffer: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
  URL: 'readonly',
};

// Type tags say what a project is, scope tags whose it is: shared code depends only on shared code, and a
// service's code on its own scope and the shared one (order-command and order-query share scope:order).
const SCOPES = ['gateway', 'inventory', 'order'];

function moduleBoundaries({ mayUseTooling }) {
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      allow: [],
      allowCircularSelfDependency: false,
      depConstraints: [
        // Apps are never a dependency of anything, including other apps.
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: mayUseTooling ? ['type:lib', 'type:tooling'] : ['type:lib'] },
        { sourceTag: 'type:lib', onlyDependOnLibsWithTags: mayUseTooling ? ['type:lib', 'type:tooling'] : ['type:lib'] },
        { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:lib', 'type:tooling'] },
        { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
        ...SCOPES.map((scope) => ({ sourceTag: `scope:${scope}`, onlyDependOnLibsWithTags: [`scope:${scope}`, 'scope:shared'] })),
      ],
    },
  ];
}

// The workspace libs that wrap drivers and transports. Domain code may import only their pure exports (plain data,
// arithmetic, no I/O), named here; @orderflow/sharding is pure as a whole (and linted so below), so it is not listed.
// The rule is about what the domain depends on: a value import still loads the lib's index at run time.
const WRAPPER_LIB_MESSAGE =
  'Domain code imports only the pure exports of the libs that wrap drivers and transports (named in eslint.config.mjs): ' +
  'depend on a port (interface) declared in the domain instead.';
const wrapperLibPaths = [
  // Sequelize and mysql2: nothing pure.
  { name: '@orderflow/database', message: WRAPPER_LIB_MESSAGE },
  // OpenTelemetry: nothing pure.
  { name: '@orderflow/telemetry', message: WRAPPER_LIB_MESSAGE },
  // The live shard map and the fence (mysql2): nothing pure.
  { name: '@orderflow/shard-control', message: WRAPPER_LIB_MESSAGE },
  // NATS: the event kinds are plain data.
  { name: '@orderflow/messaging', allowImportNames: ['ORDER_EVENT_KINDS', 'OrderEventKind'], message: WRAPPER_LIB_MESSAGE },
  // gRPC, pino, prom-client: the retry arithmetic is pure.
  { name: '@orderflow/service-kit', allowImportNames: ['retry', 'backoffDelay', 'RetryOptions'], message: WRAPPER_LIB_MESSAGE },
  // gRPC and proto-loader: the generated messages are types (type-only imports), the order limits plain data.
  {
    name: '@orderflow/proto',
    allowTypeImports: true,
    allowImportNames: ['DEFAULT_ORDER_LIMITS', 'ORDER_LIMIT_CEILINGS', 'OrderLimits'],
    message: WRAPPER_LIB_MESSAGE,
  },
];
// No way around the public index either.
const wrapperLibPatterns = [{ regex: '^@orderflow/(database|shard-control|telemetry|messaging|service-kit|proto)/', message: WRAPPER_LIB_MESSAGE }];

export default [
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.stack/**',
      '**/reports/**',
      '**/coverage/**',
      '**/src/generated/**', // ts-proto output
      '**/.nx/**',
    ],
  },

  // Registers the `@nx` plugin (and ignores .nx).
  ...nx.configs['flat/base'],

  js.configs.recommended,

  // typescript-eslint recommended (no type-aware rules: no parserOptions.project, stays fast), scoped to TypeScript.
  ...tseslint.configs.recommended.map((config) => ({ ...config, files: config.files ?? TS_FILES })),

  {
    files: JS_FILES,
    languageOptions: { ecmaVersion: 2022, sourceType: 'commonjs', globals: nodeCommonJsGlobals },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module' },
  },

  // Project sources and tests are TypeScript; the JS files are config glue (jest.config.js requires the root
  // jest.preset.js, which belongs to no project), so the rule is scoped to TypeScript and `allow` stays empty.
  // An app's or a lib's src/ never imports tooling (libs/stack installs Debian packages); their integration tests
  // (the test stack) and benchmarks may.
  {
    files: TS_FILES,
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries({ mayUseTooling: false }) },
  },
  {
    files: ['apps/*/test/**/*.ts', 'apps/*/bench/**/*.ts', 'libs/*/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries({ mayUseTooling: true }) },
  },

  // Hexagonal rule: domain code imports no driver, no transport, no adapter.
  {
    files: ['apps/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...driverAndTransportPatterns, ...layerPatterns] }],
      // typescript-eslint's variant knows type-only imports (erased at run time).
      '@typescript-eslint/no-restricted-imports': ['error', { paths: wrapperLibPaths, patterns: wrapperLibPatterns }],
    },
  },
  // The sharding lib is pure (key -> shard arithmetic); same restriction.
  {
    files: ['libs/sharding/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...driverAndTransportPatterns, ...layerPatterns] }],
    },
  },

  // End-to-end tests read JSON bodies of many shapes: `any` is allowed there, and only there.
  {
    files: ['apps/*/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },

  // Last: turn off stylistic rules that would fight a formatter.
  prettier,
];
