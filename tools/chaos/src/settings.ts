/**
 * Settings of a system started for a chaos run, so recovery takes seconds, as the faults do: a placement
 * abandoned by a killed process is given up (stock released, key freed) after 5 s instead of 30, the
 * sweeper looks every 250 ms, and an owed Commit/Release is retried after 0.5 s instead of 2.
 */
export const CHAOS_SYSTEM_ENV: Record<string, string> = { PENDING_TIMEOUT_MS: '5000', ORDER_SWEEP_INTERVAL_MS: '250', SETTLE_AFTER_MS: '500' };

/**
 * Which graceful restarts are held to zero 5xx. With one process per service, a gRPC service that
 * restarts leaves nothing to answer meanwhile (the gateway says 503): only the gateway's own restart
 * (its drain serves what arrives, new connections are refused) can cost none. With replicas, all must.
 */
export const zero5xxRequired = (replicas: number) => (fault: string) => replicas > 1 || fault === 'term:gateway';
