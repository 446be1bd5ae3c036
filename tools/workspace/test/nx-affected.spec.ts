import { dependentsClosure, nxProjects, workspaceDependenciesOf, workspacePackages } from './support/workspace';

// Nx names package.json-inferred projects after the package name ("@orderflow/proto"), not the folder.
const PROTO = '@orderflow/proto';
const STACK = '@orderflow/stack';

const sorted = (names: Iterable<string>) => [...names].sort();

let allProjects: string[];
beforeAll(async () => {
  allProjects = await nxProjects();
}, 30_000);

describe('nx project graph and affected projects', () => {
  it('when nx lists the projects, then they are exactly the npm workspace packages, named by package name', () => {
    expect(sorted(allProjects)).toEqual(sorted(workspacePackages().map((p) => p.name)));
    expect(allProjects).toEqual(expect.arrayContaining([PROTO, STACK, '@orderflow/workspace-tests']));
  });

  it('when libs/proto/src/index.ts changes, then proto and every project importing it (transitively) are affected, and nothing else', async () => {
    const affected = await nxProjects(['--affected', '--files=libs/proto/src/index.ts']);
    const packages = workspacePackages();
    const names = new Set(packages.map((p) => p.name));
    const expected = dependentsClosure(PROTO, packages);

    expect(affected).toContain(PROTO);
    // Every app whose sources import the contract must be retested with it; inventory is a gRPC server of it.
    const appsImportingProto = packages.filter((p) => p.tags.includes('type:app') && workspaceDependenciesOf(p, names).has(PROTO)).map((p) => p.name);
    if (names.has('@orderflow/inventory')) expect(appsImportingProto).toContain('@orderflow/inventory');
    expect(affected).toEqual(expect.arrayContaining(appsImportingProto));
    expect(sorted(affected)).toEqual(sorted(expected));
  }, 30_000);

  it('when a file in libs/stack changes, then only stack and the projects depending on it are affected', async () => {
    const affected = await nxProjects(['--affected', '--files=libs/stack/src/index.ts']);
    const expected = dependentsClosure(STACK, workspacePackages());

    expect(affected).toContain(STACK);
    expect(affected).not.toContain(PROTO); // a lib never depends on tooling
    expect(sorted(affected)).toEqual(sorted(expected));
  }, 30_000);
});
