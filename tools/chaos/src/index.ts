export { runChaos } from './run';
export type { ChaosOptions, ChaosReport, ChaosTarget } from './run';
export { ALL_FAULTS, parseFaults, isService, SERVICES, SERVERS } from './faults';
export type { Fault, FaultKind, FaultUnit, ServiceName, ServerName } from './faults';
export { formatTable, formatMarkdownTable, formatAlerts, formatCheck, formatFailures } from './report';
export { pidListeningOn, isAlive } from './proc-net';
export type { Episode } from './alerts';
export type { CheckResult } from './checks';
export type { WindowStats } from './ledger';
export { CHAOS_SYSTEM_ENV, faultAllowance } from './settings';
// The REST clients and their ledger, for other drivers of load (tools/bench's move load).
export { RestLoad } from './load';
export type { Customer, Product } from './load';
export { call } from './client';
export { classify } from './outcome';
export type { Operation, OperationKind } from './ledger';
