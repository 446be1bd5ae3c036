import { randomBytes } from 'node:crypto';
import { type MysqlTarget, rowsOf, type SqlPool } from '@orderflow/database';
import type { Component, Logger } from '@orderflow/service-kit';
import type { LiveShardMap } from '@orderflow/shard-control';
import type { ClaimOwners } from '../../domain/ports';
import { InstanceLock } from './instance-lock';

/** This process's name on claims: 64 random bits, 16 hex characters (the column holds 32). */
export const newInstanceId = (): string => randomBytes(8).toString('hex');

const LOCK_PREFIX = 'orderflow.claim-owner.';

/**
 * The named lock that says an instance lives, one per shard: several shards may share a MariaDB server,
 * where lock names are server-wide and a name is held by one connection, so the shard is in the name.
 * MariaDB allows 64 characters.
 */
export function claimOwnerLockName(shard: number, instanceId: string): string {
  const name = `${LOCK_PREFIX}${shard}.${instanceId}`;
  if (name.length > 64) throw new Error(`claim owner lock name longer than 64 characters: "${name}"`);
  return name;
}

/**
 * Owner liveness for keyed placements (ADR 0006): on every order shard this process holds its own named
 * lock for its whole life; a claim records the instance id; a duplicate call asks the claim's shard
 * whether that lock is still held. Nobody holding it means the owner's connection closed: it is gone.
 */
export class ClaimOwnerLocks implements ClaimOwners, Component {
  readonly name = 'claim-owner-locks';
  private readonly locks: InstanceLock[];

  constructor(
    targets: MysqlTarget[],
    private readonly pools: SqlPool[],
    /** Claims are routed by the live map at call time, like the writes that make them. */
    private readonly map: LiveShardMap,
    readonly instanceId: string,
    private readonly logger: Logger,
    checkIntervalMs?: number,
  ) {
    this.locks = targets.map((target, shard) => new InstanceLock(target, claimOwnerLockName(shard, instanceId), logger, checkIntervalMs));
  }

  async start(): Promise<void> {
    await Promise.all(this.locks.map((lock) => lock.start()));
    this.logger.info(
      { instanceId: this.instanceId, shardsHeld: this.locks.filter((lock) => lock.held).length, shards: this.locks.length },
      'claim owner locks taken',
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.locks.map((lock) => lock.stop()));
  }

  self(customerId: string): string | undefined {
    return this.locks[this.map.current.router.shardForCustomer(customerId)]?.held ? this.instanceId : undefined;
  }

  async isGone(customerId: string, owner: string): Promise<boolean> {
    if (owner === this.instanceId) return false;
    const shard = this.map.current.router.shardForCustomer(customerId);
    const [result] = await (this.pools[shard] as SqlPool).run([{ sql: 'SELECT IS_USED_LOCK(?) AS holder', values: [claimOwnerLockName(shard, owner)] }]);
    const [row] = rowsOf<{ holder: unknown }>(result);
    return row !== undefined && row.holder === null;
  }
}
