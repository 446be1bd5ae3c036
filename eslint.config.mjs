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
  {
    files: TS_FILES,
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          allowCircularSelfDependency: false,
          depConstraints: [
            // Apps are never a dependency of anything, including other apps.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:tooling'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:lib', 'type:tooling'] },
          ],
        },
      ],
    },
  },

  // Hexagonal rule: domain code imports no driver, no transport, no adapter.
  {
    files: ['apps/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...driverAndTransportPatterns, ...layerPatterns] }],
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
