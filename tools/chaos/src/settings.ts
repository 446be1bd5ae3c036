/**
 * Settings of a system started for a chaos run, so recovery takes seconds, as the faults do: a placement
 * abandoned by a killed process is given up (stock released, key freed) after 5 s instead of 30, the
 * sweeper looks every 250 ms, and an owed Commit/Release is retried after 0.5 s instead of 2.
 */
export const CHAOS_SYSTEM_ENV: Record<string, string> = { PENDING_TIMEOUT_MS: '5000', ORDER_SWEEP_INTERVAL_MS: '250', SETTLE_AFTER_MS: '500' };

/** What a fault of a service may cost REST clients, given the replicas of each service. */
export interface FaultAllowance {
  /** 5xx answers must be zero. */
  no5xx: boolean;
  /** Transport errors (reset, refused) must be zero. */
  noTransportErrors: boolean;
}

/**
 * What a service fault is held to; undefined: nothing (reported only). With one process per service, a
 * gRPC service that restarts or dies leaves nothing to answer meanwhile (the gateway says 503); only the
 * gateway's graceful restart costs no 5xx (its drain serves what arrives; new connections are refused
 * while it is down). With replicas, no fault of a service may cost a 5xx, nor a transport error, except
 * a gateway worker killed with -9: the requests in flight on it are reset with it.
 */
export function faultAllowance(fault: string, replicas: number): FaultAllowance | undefined {
  const [kind, unit] = fault.split(':');
  if (!['gateway', 'orderCommand', 'orderRelay', 'inventory', 'orderQuery'].includes(unit ?? '')) return undefined;
  if (replicas > 1) return { no5xx: true, noTransportErrors: !(kind === 'kill' && unit === 'gateway') };
  return kind === 'term' && unit === 'gateway' ? { no5xx: true, noTransportErrors: false } : undefined;
}
