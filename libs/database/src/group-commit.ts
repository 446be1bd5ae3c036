import { isDuplicateKey, isSignalled } from './errors';
import type { SqlPool, Statement } from './sql';

interface Group<K> {
  statements: Statement[];
  /** What the transaction's opening statements are made of for this group (a shard fence's bucket). */
  key: K | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: independent writes that arrive while one is in flight share the next transaction, so
 * under load many of them cost one round trip and one COMMIT instead of one each (on a loaded box the
 * socket write and the commit per transaction, not the SQL, are the cost). At most one shared
 * transaction is in flight per pool; a lone write goes at once.
 *
 * Each group still succeeds or fails alone. A duplicate key in one group, or a refusal one of its statements
 * SIGNALs (a shard fence, ADR 0009), stops the shared transaction before its COMMIT, so nothing of it is
 * stored: every group is then written again in a transaction of its own and gets its own answer. Any other
 * failure (a lost connection) is every group's answer, with the same doubt as for one transaction: the COMMIT
 * may or may not have landed.
 *
 * With `opening`, a transaction starts with the statements it makes of the keys of the groups in it, once
 * for all of them (one shard fence over all their buckets) instead of once a group; a group written alone
 * gets its own.
 */
export class GroupCommitter<K = never> {
  private readonly queue: Group<K>[] = [];
  private draining = false;

  constructor(
    private readonly pool: SqlPool,
    private readonly maxGroups = 64,
    private readonly opening: (keys: K[]) => Statement[] = () => [],
  ) {
    if (!Number.isInteger(maxGroups) || maxGroups < 1) throw new RangeError('maxGroups must be a positive integer');
  }

  /** Resolves once the statements are committed, in one transaction (possibly shared with others), after the opening made with `key`. */
  commit(statements: Statement[], key?: K): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ statements, key, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  /** One transaction's statements: the opening of its groups' keys, then each group's own. */
  private statementsOf(groups: Group<K>[]): Statement[] {
    const keys = groups.flatMap((group) => (group.key === undefined ? [] : [group.key]));
    return [...this.opening(keys), ...groups.flatMap((group) => group.statements)];
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) await this.flush(this.queue.splice(0, this.maxGroups));
    } finally {
      this.draining = false;
    }
  }

  private async flush(batch: Group<K>[]): Promise<void> {
    try {
      await this.pool.transaction((tx) => tx.commitWith(this.statementsOf(batch)));
      for (const group of batch) group.resolve();
    } catch (error) {
      if (batch.length === 1 || !(isDuplicateKey(error) || isSignalled(error))) {
        for (const group of batch) group.reject(error);
        return;
      }
      await Promise.all(batch.map((group) => this.pool.transaction((tx) => tx.commitWith(this.statementsOf([group]))).then(group.resolve, group.reject)));
    }
  }
}
