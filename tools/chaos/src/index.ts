export { runChaos } from './run';
export type { ChaosOptions, ChaosReport, ChaosTarget } from './run';
export { ALL_FAULTS, parseFaults, isService, SERVICES, SERVERS } from './faults';
export type { Fault, FaultKind, FaultUnit, ServiceName, ServerName } from './faults';
export { formatTable, formatMarkdownTable, formatAlerts, formatCheck, formatFailures } from './report';
export { pidListeningOn, isAlive } from './proc-net';
export type { Episode } from './alerts';
export type { CheckResult } from './checks';
export type { WindowStats } from './ledger';
