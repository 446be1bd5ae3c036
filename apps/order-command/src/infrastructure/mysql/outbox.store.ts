import { rowsOf, SqlPool } from '@orderflow/database';
import { heldBucketCondition } from '@orderflow/shard-control';
import type { OutboxEvent, OutboxStore, RelayedBatch } from '../../domain/outbox.ports';

interface OutboxRow {
  id: string;
  event_id: string;
  subject: string;
  payload: Buffer;
  /** W3C trace context of the request that wrote the row (0002), or null. */
  traceparent: string | null;
}

/**
 * Unsent rows of the buckets the shard holds: a move's copies on its target are published only once the
 * target owns them (by the target's relay), the rows a switch left on the source never again. The outbox
 * index (sent_at, id) still drives the fetch (each row's bucket is a primary-key look-up), and the check
 * takes no lock on `shard_buckets` (checked with EXPLAIN and a concurrent fence: docs/order-command.md).
 */
const UNSENT = `sent_at IS NULL AND ${heldBucketCondition('order_id')}`;

/** A relay's batch: the oldest unsent rows nobody else has claimed (`?`: the batch size). */
export const RELAY_FETCH_SQL = `SELECT id, event_id, subject, payload, traceparent FROM outbox WHERE ${UNSENT} ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`;

/**
 * The `outbox` table of every order shard, one pool per shard in shard order. A batch is claimed with
 * SELECT ... FOR UPDATE SKIP LOCKED, so several relays share the work without waiting on each other and
 * never hold the same row at once; it is marked in the claiming transaction, so a relay that dies
 * before the commit leaves its rows unsent (to be sent again, and dropped as copies by the stream).
 */
export class MysqlOutboxStore implements OutboxStore {
  constructor(private readonly pools: SqlPool[]) {
    if (pools.length === 0) throw new Error('outbox: no shards');
  }

  get shardCount(): number {
    return this.pools.length;
  }

  async relayBatch<R extends RelayedBatch>(shard: number, limit: number, publish: (events: OutboxEvent[]) => Promise<R>): Promise<R | undefined> {
    const pool = this.pools[shard];
    if (!pool) throw new RangeError(`outbox: no shard ${shard}`);
    // Two round trips per batch: claim (opening the transaction), then mark and COMMIT together.
    return pool.transaction(async (tx) => {
      const [claimed] = await tx.run([{ sql: RELAY_FETCH_SQL, values: [limit] }]);
      const events = rowsOf<OutboxRow>(claimed).map(toEvent);
      if (events.length === 0) return undefined;
      const result = await publish(events);
      const ids = (list: OutboxEvent[]) => [list.map((event) => event.id)];
      const marks = [
        ...(result.sent.length > 0
          ? [{ sql: `UPDATE outbox SET sent_at = NOW(3), publish_attempts = publish_attempts + 1 WHERE id IN (?)`, values: ids(result.sent) }]
          : []),
        // Counted, so an event that never goes out (say, a subject no stream takes) can be found.
        ...(result.failed.length > 0 ? [{ sql: `UPDATE outbox SET publish_attempts = publish_attempts + 1 WHERE id IN (?)`, values: ids(result.failed) }] : []),
      ];
      await tx.commitWith(marks);
      return result;
    });
  }

  async countUnsent(): Promise<number> {
    const counts = await Promise.all(this.pools.map((pool) => pool.select<{ n: string }>(`SELECT COUNT(*) AS n FROM outbox WHERE ${UNSENT}`)));
    return counts.reduce((sum, [row]) => sum + Number(row?.n ?? 0), 0);
  }
}

const toEvent = (row: OutboxRow): OutboxEvent => ({
  id: String(row.id),
  eventId: row.event_id,
  subject: row.subject,
  payload: row.payload,
  traceparent: row.traceparent,
});
