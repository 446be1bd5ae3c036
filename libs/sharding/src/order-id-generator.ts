import { encodeOrderId, MAX_ORDER_ID_TIMESTAMP_MS, MAX_SEQUENCE, ORDER_ID_EPOCH_MS } from './order-id';

export type Clock = () => number;

/**
 * Makes order ids for one process. One timestamp and one sequence are shared by every bucket, so:
 * ids are unique; a later call never carries an earlier millisecond; and ids of one bucket (one
 * customer's orders) strictly increase. Ids of different buckets within one millisecond are ordered by
 * bucket, not by call.
 *
 * The clock is only trusted to move forward. When it stalls or steps back the last millisecond is kept;
 * when 4096 ids have used a millisecond the generator moves on to the next one without waiting, running
 * slightly ahead of the clock until the clock catches up.
 *
 * Two processes can make the same id (same millisecond, bucket and sequence): store ids under a unique
 * key and retry a duplicate with a fresh id.
 */
export class OrderIdGenerator {
  private lastMs = -Infinity;
  private sequence = 0;

  constructor(private readonly clock: Clock = Date.now) {}

  next(bucket: number): string {
    const now = Math.floor(this.clock());
    let ms = this.lastMs;
    let sequence = this.sequence + 1;
    if (now > ms) {
      ms = now;
      sequence = 0;
    } else if (sequence > MAX_SEQUENCE) {
      ms += 1;
      sequence = 0;
    }
    if (!(ms >= ORDER_ID_EPOCH_MS && ms <= MAX_ORDER_ID_TIMESTAMP_MS)) {
      throw new RangeError(`clock reads ${String(now)}, outside the order id range ${ORDER_ID_EPOCH_MS}..${MAX_ORDER_ID_TIMESTAMP_MS}`);
    }
    // Encode before committing, so a bad bucket leaves the generator as it was.
    const id = encodeOrderId({ timestampMs: ms, bucket, sequence });
    this.lastMs = ms;
    this.sequence = sequence;
    return id;
  }
}
