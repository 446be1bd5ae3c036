import fs from 'node:fs';
import path from 'node:path';
import { appConfig, unknownVariables } from '../src/app-config';
import { dockerignore } from '../src/dockerignore';
import { argumentsOf, finalStage, lintDockerfile, Rule, RULES, withBuildArgs } from '../src/dockerfile-lint';
import { appDockerfile, APPS, DOCKERFILE, readText, ROOT } from '../src/workspace';

// A small Dockerfile that keeps every rule; each broken variant below changes one thing.
const GOOD = `# syntax=docker/dockerfile:1
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN node build.mjs

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY --from=build /app/dist ./dist
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=10s CMD ["node", "health.js"]
CMD ["node", "dist/main.js"]
`;

const broken: [Rule, string, string][] = [
  ['syntax', 'an unknown instruction', GOOD.replace('WORKDIR /app\nCOPY package.json', 'WORKDIR /app\nFETCH x\nCOPY package.json')],
  ['base-image', ':latest', GOOD.replace('FROM node:20-bookworm-slim AS build', 'FROM node:latest AS build')],
  ['base-image', 'no tag', GOOD.replace('FROM node:20-bookworm-slim\n', 'FROM node\n')],
  ['base-image', 'another distribution', GOOD.replace('FROM node:20-bookworm-slim AS build', 'FROM node:20-alpine AS build')],
  ['multi-stage', 'one stage', GOOD.slice(GOOD.indexOf('FROM node:20-bookworm-slim\n'))],
  ['final-user', 'no USER', GOOD.replace('USER 1000:1000\n', '')],
  ['final-user', 'USER root', GOOD.replace('USER 1000:1000', 'USER root')],
  ['add-url', 'ADD of a URL', GOOD.replace('RUN node build.mjs', 'ADD https://example.com/tool.tgz /tmp/\nRUN node build.mjs')],
  ['npm-ci', 'npm install', GOOD.replace('RUN npm ci\n', 'RUN npm install\n')],
  ['pipefail', 'a pipe without pipefail', GOOD.replace('RUN node build.mjs', 'RUN node build.mjs | tee build.log')],
  ['final-omit-dev', 'dev dependencies in the final stage', GOOD.replace('RUN npm ci --omit=dev', 'RUN npm ci')],
  [
    'final-omit-dev',
    'node_modules copied from the build stage',
    GOOD.replace('COPY --from=build /app/dist ./dist', 'COPY --from=build /app/node_modules ./node_modules'),
  ],
  ['healthcheck', 'no HEALTHCHECK', GOOD.replace(/HEALTHCHECK .*\n/, '')],
  ['healthcheck', 'a shell-form HEALTHCHECK', GOOD.replace('CMD ["node", "health.js"]', 'CMD node health.js')],
  ['expose', 'no EXPOSE', GOOD.replace('EXPOSE 8080\n', '')],
  ['cmd-exec-form', 'a shell-form CMD', GOOD.replace('CMD ["node", "dist/main.js"]', 'CMD node dist/main.js')],
  ['cmd-exec-form', 'no CMD', GOOD.replace('CMD ["node", "dist/main.js"]\n', '')],
  ['secret-in-image', 'a secret in ENV', GOOD.replace('ENV NODE_ENV=production', 'ENV NODE_ENV=production JWT_SECRET=abc')],
];

describe('the Dockerfile linter', () => {
  it('when a Dockerfile keeps every rule, then it reports nothing', () => {
    expect(lintDockerfile(GOOD)).toEqual([]);
  });

  it.each(broken)('when a Dockerfile breaks %s (%s), then the linter reports that rule', (rule, _what, content) => {
    expect(lintDockerfile(content).map((p) => p.rule)).toContain(rule);
  });

  it('when a stage sets pipefail before a pipe, or uses only ||, then that is accepted', () => {
    const withShell = GOOD.replace('RUN node build.mjs', 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN node build.mjs | tee build.log');
    expect(lintDockerfile(withShell)).toEqual([]);
    expect(lintDockerfile(GOOD.replace('RUN node build.mjs', 'RUN node build.mjs || exit 1'))).toEqual([]);
  });

  it('when the final stage documents why it has no HEALTHCHECK, then that is accepted', () => {
    const documented = GOOD.replace(/HEALTHCHECK .*\n/, '# no HEALTHCHECK: the orchestrator probes the gRPC health service\n');
    expect(lintDockerfile(documented)).toEqual([]);
  });

  it('when the last stage is built FROM an earlier stage picked by a build argument, then the rules see that stage and the ones below it', () => {
    const picked = `ARG APP\n${GOOD.replace('FROM node:20-bookworm-slim\n', 'FROM node:20-bookworm-slim AS runtime\n')
      .replace(/HEALTHCHECK .*\n/, '')
      .replace('EXPOSE 8080\n', '')
      .replace('CMD ["node", "dist/main.js"]\n', '')}
FROM runtime AS web
EXPOSE 8080
HEALTHCHECK --interval=10s CMD ["node", "health.js"]
CMD ["node", "dist/main.js"]

FROM runtime AS worker
CMD ["node", "dist/worker.js"]

FROM \${APP}
`;
    expect(lintDockerfile(withBuildArgs(picked, { APP: 'web' }))).toEqual([]);
    expect(lintDockerfile(withBuildArgs(picked, { APP: 'worker' })).map((p) => p.rule)).toEqual(['healthcheck', 'expose']);
    expect(argumentsOf(finalStage(withBuildArgs(picked, { APP: 'worker' })).find((i) => i.getKeyword() === 'USER')!)).toBe('1000:1000');
    // Without the argument the last FROM names no image nor stage.
    expect(lintDockerfile(picked).map((p) => p.rule)).toContain('base-image');
  });

  it('when the rules are listed, then every rule has a broken example above', () => {
    expect(new Set(broken.map(([rule]) => rule))).toEqual(new Set(Object.keys(RULES)));
  });
});

describe('the app images', () => {
  it('when the apps are listed, then one Dockerfile at the root builds them all (no Dockerfile per app), each app from a stage of its name', () => {
    expect(APPS.filter((app) => fs.existsSync(path.join(ROOT, 'apps', app, 'Dockerfile')))).toEqual([]);
    const content = readText(DOCKERFILE);
    expect(content).toMatch(/^ARG APP$/m);
    expect(content.trimEnd()).toMatch(/\nFROM \$\{APP\}$/);
    for (const app of APPS) expect(content).toMatch(new RegExp(`^FROM runtime AS ${app}$`, 'm'));
  });

  it.each(APPS)('when the Dockerfile is linted with APP=%s, then it breaks no rule', (app) => {
    const problems = lintDockerfile(appDockerfile(app));
    expect(problems.map((p) => `line ${p.line} [${p.rule}] ${p.message}`)).toEqual([]);
  });

  it.each(APPS)(
    'when the Dockerfile builds APP=%s, then it bundles that app, runs the bundle with node as a non-root user, and exposes and probes its port',
    (app) => {
      const content = appDockerfile(app);
      const final = finalStage(content);
      const { portVariable, defaultPort } = appConfig(app);
      const all = (keyword: string) => final.filter((i) => i.getKeyword() === keyword).map(argumentsOf);

      expect(content).toMatch(new RegExp(`^RUN node tools/deploy-checks/build-app\\.mjs ${app}$`, 'm'));
      expect(all('CMD')).toEqual([`["node", "--enable-source-maps", "--max-semi-space-size=32", "dist/apps/${app}/main.js"]`]);
      expect(all('EXPOSE').join(' ').split(/\s+/)).toContain(String(defaultPort));
      expect(all('USER')).toEqual(['1000:1000']);
      // Production dependencies of the app and of every workspace lib (the bundle inlines the libs, not their dependencies).
      const install = all('RUN').find((r) => /npm ci --omit=dev/.test(r)) ?? '';
      expect(install).toMatch(new RegExp(`-w apps/${app}( |$)`));
      expect(install).toMatch(/-w libs( |$)/);
      const healthcheck = all('HEALTHCHECK').join(' ');
      if (app === 'gateway') expect(healthcheck).toContain('/healthz');
      else expect(healthcheck).toContain(`"grpc-health.cjs", "${portVariable}", "${defaultPort}"`);
      // The service must listen beyond the container's loopback, and every variable the image sets is one the app reads.
      expect(all('ENV').join(' ')).toMatch(new RegExp(`${portVariable.replace(/_PORT$/, '_HOST')}=0\\.0\\.0\\.0`));
      const envNames = all('ENV').flatMap((e) => e.split(/\s+/).map((pair) => pair.split('=')[0] ?? ''));
      expect(unknownVariables(app, envNames)).toEqual([]);
    },
  );

  it.each(APPS)('when the Dockerfile with APP=%s copies from the build context, then every source exists and .dockerignore keeps it', (app) => {
    const ignore = dockerignore();
    const sources = appDockerfile(app)
      .split('\n')
      .filter((line) => /^COPY (?!--from)/.test(line))
      .flatMap((line) =>
        line
          .replace(/^COPY\s+(--\S+\s+)*/, '')
          .split(/\s+/)
          .slice(0, -1),
      );
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources.filter((s) => s !== '.')) {
      expect({ source, exists: fs.existsSync(path.join(ROOT, source)), ignored: ignore.ignores(source) }).toEqual({ source, exists: true, ignored: false });
    }
    // What the bundling reads at build time, beyond the sources: tsconfigs and the reflection descriptor set.
    for (const needed of [
      'tsconfig.base.json',
      `apps/${app}/tsconfig.json`,
      `apps/${app}/src/main.ts`,
      'libs/proto/src/generated/descriptor-set.binpb',
      'package-lock.json',
    ]) {
      expect({ needed, ignored: ignore.ignores(needed) }).toEqual({ needed, ignored: false });
    }
  });

  it('when the build context is sent, then .dockerignore leaves out dependencies, git, local stacks, build output and tests', () => {
    const ignore = dockerignore();
    for (const path of [
      'node_modules/fastify',
      'apps/gateway/node_modules/ajv',
      '.git/HEAD',
      '.stack/dev/mysql-0',
      'dist/apps/gateway/main.js',
      '.nx/cache',
      'apps/gateway/test/rest-api.e2e.spec.ts',
      'libs/sharding/src/bucket.spec.ts',
      'deploy/compose.yaml',
    ]) {
      expect({ path, ignored: ignore.ignores(path) }).toEqual({ path, ignored: true });
    }
  });
});
