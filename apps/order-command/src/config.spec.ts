import { ConfigError } from '@orderflow/service-kit';
import { loadConfig } from './config';

describe('order-command config', () => {
  it('when no roles are given, then the process runs the API, the relay and the sweeper', () => {
    expect(loadConfig({}).roles).toEqual(['api', 'relay', 'sweeper']);
  });

  it('when roles are listed, then exactly those run, once each', () => {
    expect(loadConfig({ ORDER_COMMAND_ROLES: ' relay, relay ' }).roles).toEqual(['relay']);
    expect(loadConfig({ ORDER_COMMAND_ROLES: 'api,sweeper' }).roles).toEqual(['api', 'sweeper']);
  });

  it('when a role is unknown or none is given, then start-up fails naming the variable', () => {
    expect(() => loadConfig({ ORDER_COMMAND_ROLES: 'api,worker' })).toThrow(ConfigError);
    expect(() => loadConfig({ ORDER_COMMAND_ROLES: 'api,worker' })).toThrow(/ORDER_COMMAND_ROLES.*unknown: worker/);
    expect(() => loadConfig({ ORDER_COMMAND_ROLES: ' , ' })).toThrow(/ORDER_COMMAND_ROLES/);
  });

  it('when retention and stream bounds are not set, then keys are kept 24 h, sent outbox rows 24 h, and the stream a week and 1 GiB', () => {
    const config = loadConfig({});
    expect(config.retention).toEqual({ idempotencyKeyTtlMs: 86_400_000, outboxRetentionMs: 86_400_000, intervalMs: 60_000, batchSize: 500 });
    expect(config.nats).toMatchObject({ maxAgeMs: 604_800_000, maxBytes: 1_073_741_824 });
    expect(loadConfig({ ORDERS_STREAM_MAX_AGE_MS: '0', ORDERS_STREAM_MAX_BYTES: '0' }).nats).toMatchObject({ maxAgeMs: 0, maxBytes: -1 });
  });

  it('when a retention or stream bound is out of range, then start-up fails naming the variable', () => {
    expect(() => loadConfig({ IDEMPOTENCY_KEY_TTL_MS: '60000' })).toThrow(/IDEMPOTENCY_KEY_TTL_MS/);
    expect(() => loadConfig({ ORDER_PURGE_BATCH_SIZE: '0' })).toThrow(/ORDER_PURGE_BATCH_SIZE/);
    expect(() => loadConfig({ ORDERS_STREAM_MAX_AGE_MS: '60000' })).toThrow(/ORDERS_STREAM_MAX_AGE_MS.*shorter than ORDERS_STREAM_DUPLICATE_WINDOW_MS/);
    expect(() => loadConfig({ ORDERS_STREAM_MAX_BYTES: '-5' })).toThrow(/ORDERS_STREAM_MAX_BYTES/);
  });

  it('when the live shard map settings are not set, then the map is read every second and a write waits out a switch 5 s at most; nonsense is refused', () => {
    expect(loadConfig({})).toMatchObject({ shardMapPollMs: 1_000, shardMoveMaxWaitMs: 5_000 });
    expect(loadConfig({ ORDER_SHARD_MAP_POLL_MS: '250', ORDER_SHARD_MOVE_MAX_WAIT_MS: '0' })).toMatchObject({ shardMapPollMs: 250, shardMoveMaxWaitMs: 0 });
    expect(() => loadConfig({ ORDER_SHARD_MAP_POLL_MS: '0' })).toThrow(/ORDER_SHARD_MAP_POLL_MS/);
    expect(() => loadConfig({ ORDER_SHARD_MOVE_MAX_WAIT_MS: '-1' })).toThrow(/ORDER_SHARD_MOVE_MAX_WAIT_MS/);
  });

  it('when Reserve batching is not set, then Reserves made together go at once in calls of up to 128; out-of-range values are refused', () => {
    expect(loadConfig({}).inventory.reserveBatching).toEqual({ lingerMs: 0, maxEntries: 128 });
    expect(loadConfig({ INVENTORY_RESERVE_LINGER_MS: '2', INVENTORY_RESERVE_BATCH_MAX: '1' }).inventory.reserveBatching).toEqual({
      lingerMs: 2,
      maxEntries: 1,
    });
    expect(() => loadConfig({ INVENTORY_RESERVE_LINGER_MS: '21' })).toThrow(/INVENTORY_RESERVE_LINGER_MS/);
    expect(() => loadConfig({ INVENTORY_RESERVE_LINGER_MS: '-1' })).toThrow(/INVENTORY_RESERVE_LINGER_MS/);
    expect(() => loadConfig({ INVENTORY_RESERVE_BATCH_MAX: '0' })).toThrow(/INVENTORY_RESERVE_BATCH_MAX/);
    expect(() => loadConfig({ INVENTORY_RESERVE_BATCH_MAX: '1025' })).toThrow(/INVENTORY_RESERVE_BATCH_MAX/);
  });

  it('when the defaults are used, then every inner wait is shorter than the deadline of the call it serves', () => {
    const config = loadConfig({});
    expect(config.idempotencyWaitMs).toBeLessThan(5_000); // the gateway's DOWNSTREAM_DEADLINE_MS default
    expect(config.inventory.deadlineMs).toBeLessThan(5_000);
  });

  it("when IDEMPOTENCY_WAIT_MS is not shorter than the gateway's DOWNSTREAM_DEADLINE_MS, then start-up fails naming both", () => {
    expect(() => loadConfig({ IDEMPOTENCY_WAIT_MS: '5000', DOWNSTREAM_DEADLINE_MS: '5000' })).toThrow(ConfigError);
    expect(() => loadConfig({ IDEMPOTENCY_WAIT_MS: '5000', DOWNSTREAM_DEADLINE_MS: '5000' })).toThrow(
      /IDEMPOTENCY_WAIT_MS \(5000 ms\) must be shorter than DOWNSTREAM_DEADLINE_MS \(5000 ms\)/,
    );
    expect(() => loadConfig({ IDEMPOTENCY_WAIT_MS: '5000', DOWNSTREAM_DEADLINE_MS: '8000' })).not.toThrow();
  });

  it("when INVENTORY_DEADLINE_MS outlasts the gateway's deadline or PENDING_TIMEOUT_MS, then start-up fails naming both", () => {
    expect(() => loadConfig({ INVENTORY_DEADLINE_MS: '6000' })).toThrow(
      /INVENTORY_DEADLINE_MS \(6000 ms\) must be shorter than DOWNSTREAM_DEADLINE_MS \(5000 ms\)/,
    );
    expect(() => loadConfig({ INVENTORY_DEADLINE_MS: '3000', PENDING_TIMEOUT_MS: '2000' })).toThrow(
      /INVENTORY_DEADLINE_MS \(3000 ms\) must be shorter than PENDING_TIMEOUT_MS \(2000 ms\)/,
    );
  });
});
