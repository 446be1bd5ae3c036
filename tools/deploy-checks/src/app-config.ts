import { App, readText } from './workspace';

/**
 * What each app's src/config.ts reads, parsed from its source (the one reader of process.env per app):
 * the variable names given to readEnv, and the default of the port it serves on.
 */
export interface AppConfigFacts {
  variables: Set<string>;
  /** GATEWAY_PORT or <APP>_GRPC_PORT. */
  portVariable: string;
  defaultPort: number;
}

/** Read by libraries rather than config.ts: Node itself, and OpenTelemetry's standard OTEL_* (libs/telemetry). */
export const LIBRARY_VARIABLES = /^(NODE_ENV|NODE_OPTIONS|OTEL_[A-Z0-9_]+)$/;

export function appConfig(app: App): AppConfigFacts {
  const source = readText(`apps/${app}/src/config.ts`);
  const start = source.indexOf('readEnv(');
  if (start < 0) throw new Error(`apps/${app}/src/config.ts: no readEnv( call`);
  const block = source.slice(start, source.indexOf('source,', start));
  const variables = new Set([...variableNames(block), ...[...block.matchAll(/^\s+\.\.\.(\w+)\(/gm)].flatMap((m) => sharedVariables(m[1] as string))]);
  const port = /^\s+((?:GATEWAY|[A-Z_]+_GRPC)_PORT):\s*env\.port\((\d+)\)/m.exec(block);
  if (!port) throw new Error(`apps/${app}/src/config.ts: no GATEWAY_PORT or *_GRPC_PORT with env.port(default)`);
  return { variables, portVariable: port[1] as string, defaultPort: Number(port[2]) };
}

const variableNames = (block: string) => [...block.matchAll(/^\s+([A-Z][A-Z0-9_]*):\s/gm)].map((m) => m[1] as string);

/** The variables of a group several apps spread into their readEnv (`...eventStreamVariables(...)`), from libs/service-kit's config.ts. */
function sharedVariables(group: string): string[] {
  const source = readText('libs/service-kit/src/config.ts');
  const start = source.indexOf(`export function ${group}(`);
  if (start < 0) throw new Error(`libs/service-kit/src/config.ts: no function ${group} (spread into an app's readEnv)`);
  return variableNames(source.slice(start, source.indexOf('\n}\n', start)));
}

/** The default of an `env.int(...)` or `env.port(...)` variable of an app's config.ts. */
export function numericDefault(app: App, variable: string): number {
  const match = new RegExp(`^\\s+${variable}:\\s*env\\.(?:int|port)\\(([\\d_]+)`, 'm').exec(readText(`apps/${app}/src/config.ts`));
  if (!match) throw new Error(`apps/${app}/src/config.ts: ${variable} has no numeric default`);
  return Number((match[1] as string).replace(/_/g, ''));
}

/** Variables given to an app that neither its config.ts nor a library reads: typos, or leftovers. */
export function unknownVariables(app: App, given: Iterable<string>): string[] {
  const { variables } = appConfig(app);
  return [...given].filter((name) => !variables.has(name) && !LIBRARY_VARIABLES.test(name)).sort();
}
