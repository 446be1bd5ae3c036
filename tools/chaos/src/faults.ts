/**
 * The faults a chaos run injects: `kill:<unit>` is a SIGKILL (nothing is flushed, nothing drains), and
 * `term:<service>` a SIGTERM (a graceful restart: the service drains and exits, supervision starts it
 * again). Servers are only killed: a server stopped with SIGTERM removes its pid file, which the stack's
 * watcher reads as "stopped on purpose" and does not restart.
 */

export const SERVICES = ['gateway', 'orderCommand', 'orderRelay', 'inventory', 'orderQuery'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * The servers. MariaDB 0 is the one killed: it holds inventory's database besides half of the order and
 * read shards, so every placement depends on it (killing MariaDB 1 would spare the placements of half
 * the customers, and no stock would ever be at stake).
 */
export const SERVERS = ['mariadb', 'redis', 'nats'] as const;
export type ServerName = (typeof SERVERS)[number];

export type FaultUnit = ServiceName | ServerName;
export type FaultKind = 'kill' | 'term';

export interface Fault {
  kind: FaultKind;
  unit: FaultUnit;
  /** `kill:orderCommand`, as --faults takes it. */
  name: string;
}

const fault = (kind: FaultKind, unit: FaultUnit): Fault => ({ kind, unit, name: `${kind}:${unit}` });

/** Every fault, in the order a full run injects them: each kill -9, then each graceful restart. */
export const ALL_FAULTS: Fault[] = [
  ...SERVICES.map((s) => fault('kill', s)),
  ...SERVERS.map((s) => fault('kill', s)),
  ...SERVICES.map((s) => fault('term', s)),
];

export const isService = (unit: FaultUnit): unit is ServiceName => (SERVICES as readonly string[]).includes(unit);

/** Parses `--faults kill:orderCommand,term:gateway` (or `all`); an unknown name is an error naming the known ones. */
export function parseFaults(spec: string | undefined): Fault[] {
  if (!spec || spec === 'all') return ALL_FAULTS;
  return spec
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
    .map((name) => {
      const found = ALL_FAULTS.find((f) => f.name === name);
      if (!found) throw new Error(`unknown fault "${name}"; known: ${ALL_FAULTS.map((f) => f.name).join(', ')}`);
      return found;
    });
}
