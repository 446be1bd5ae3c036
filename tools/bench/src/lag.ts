import mysql from 'mysql2/promise';
import { connect, headers as natsHeaders, type ConsumerMessages } from 'nats';
import { percentile } from './stats';

/**
 * Where the read side's lag goes, per event, from what the system already stores (all on one clock: the
 * services and servers of a run share the box):
 * - `occurredAt`: the event's time (order-command's clock when it made the event, before its transaction
 *   committed); the outbox row's `created_at` and the view's `event_occurred_at`;
 * - `storedAt`: when JetStream stored the relay's publish (the message's timestamp), when known;
 * - `sentAt`: when the relay marked the outbox row sent (after the acks of its whole batch, at its commit);
 * - `projectedAt`: when order-query began the transaction that applied it (the view's `projected_at`).
 */
export interface LagSample {
  occurredAt: number;
  storedAt?: number;
  sentAt?: number;
  projectedAt: number;
}

export interface LagFigures {
  /** How many samples had this segment. */
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** p50/p99/max in milliseconds of each segment; a segment some samples lack counts only those that have it. */
export interface LagBreakdown {
  /** occurred -> projected: the bench's read-side lag. */
  total: LagFigures;
  /** occurred -> stored in the stream: the commit, the relay's wake-up and linger, its claim and the publish. */
  toStream: LagFigures;
  /** stored in the stream -> projected: delivery to order-query, its queue (grouping, the dispatcher's slots) and the fence. */
  streamToProjected: LagFigures;
  /** stored in the stream -> the outbox row marked sent: the rest of the batch's acks and the relay's commit (off the lag path). */
  streamToSent: LagFigures;
  /** occurred -> the outbox row marked sent: the relay's whole share, when the stream's timestamps are not at hand. */
  toSent: LagFigures;
}

function figures(values: number[]): LagFigures {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 };
}

/** The breakdown of samples (pure). The percentiles of the segments are each their own: they do not add up to the total's. */
export function lagBreakdown(samples: readonly LagSample[]): LagBreakdown {
  const segment = (from: (s: LagSample) => number | undefined, to: (s: LagSample) => number | undefined) =>
    figures(
      samples.flatMap((s) => {
        const a = from(s);
        const b = to(s);
        return a === undefined || b === undefined ? [] : [b - a];
      }),
    );
  return {
    total: segment(
      (s) => s.occurredAt,
      (s) => s.projectedAt,
    ),
    toStream: segment(
      (s) => s.occurredAt,
      (s) => s.storedAt,
    ),
    streamToProjected: segment(
      (s) => s.storedAt,
      (s) => s.projectedAt,
    ),
    streamToSent: segment(
      (s) => s.storedAt,
      (s) => s.sentAt,
    ),
    toSent: segment(
      (s) => s.occurredAt,
      (s) => s.sentAt,
    ),
  };
}

/** One line per segment, "p50 / p99 / max ms (n)"; segments without samples are left out. */
export function formatLagBreakdown(breakdown: LagBreakdown): string[] {
  const labels: [keyof LagBreakdown, string][] = [
    ['total', 'event -> projected'],
    ['toStream', 'event -> in the stream (commit, relay wake-up and linger, claim, publish)'],
    ['streamToProjected', 'in the stream -> projected (delivery, grouping, dispatcher queue, projection)'],
    ['streamToSent', 'in the stream -> outbox row marked sent (rest of the batch, relay commit; off the path)'],
    ['toSent', 'event -> outbox row marked sent'],
  ];
  const ms = (v: number) => v.toFixed(1);
  return labels
    .filter(([key]) => breakdown[key].count > 0)
    .map(([key, label]) => {
      const f = breakdown[key];
      return `${label}: p50 ${ms(f.p50)} / p99 ${ms(f.p99)} / max ${ms(f.max)} ms (${f.count})`;
    });
}

export interface LagSources {
  /** The order shards and the read shards, "host:port/database,..." (ORDER_SHARDS, READ_SHARDS). */
  orderShards: string;
  readShards: string;
  user?: string;
  password?: string;
  /** NATS_SERVERS and ORDERS_STREAM: read for the stream's timestamps; without them, storedAt stays unknown. */
  natsServers?: string;
  stream?: string;
}

const CHUNK = 1000;
const chunks = <T>(list: readonly T[]) => Array.from({ length: Math.ceil(list.length / CHUNK) }, (_, i) => list.slice(i * CHUNK, (i + 1) * CHUNK));

function pools(spec: string, user: string, password: string): mysql.Pool[] {
  return spec.split(',').map((entry) => {
    const [, host, port, database] = /^([^:]+):(\d+)\/(.+)$/.exec(entry.trim()) ?? [];
    if (!database) throw new Error(`lag: bad shard "${entry}", expected host:port/database`);
    return mysql.createPool({ host, port: Number(port), user, password, database, connectionLimit: 2, dateStrings: true });
  });
}

// DATETIME(3) columns the services write in UTC (toSqlDateTime), read as text.
const utc = (text: string) => Date.parse(`${text.replace(' ', 'T')}Z`);

/**
 * The samples of the given orders' last applied events: the view's times from the read shards, `sent_at`
 * from the order shards' outboxes (by event id; a purged row leaves it unknown), and, with NATS given, the
 * stream's timestamps by message id (the event id). Every shard is asked for every chunk of ids: no map needed.
 */
export async function readLagSamples(orderIds: readonly string[], sources: LagSources): Promise<LagSample[]> {
  const user = sources.user ?? 'orderflow';
  const password = sources.password ?? 'orderflow';
  const reads = pools(sources.readShards, user, password);
  const orders = pools(sources.orderShards, user, password);
  try {
    const viewed = new Map<string, LagSample>();
    for (const ids of chunks(orderIds)) {
      for (const pool of reads) {
        const [rows] = await pool.query(
          `SELECT last_event_id AS eventId, DATE_FORMAT(event_occurred_at, '%Y-%m-%d %H:%i:%s.%f') AS occurredAt,
                  DATE_FORMAT(projected_at, '%Y-%m-%d %H:%i:%s.%f') AS projectedAt
             FROM order_views WHERE order_id IN (?)`,
          [ids],
        );
        for (const row of rows as { eventId: string; occurredAt: string; projectedAt: string }[]) {
          viewed.set(row.eventId, { occurredAt: utc(row.occurredAt), projectedAt: utc(row.projectedAt) });
        }
      }
    }
    const eventIds = [...viewed.keys()];
    for (const pool of orders) {
      // sent_at is NOW(3): the server's time zone, whatever the session's; brought to UTC with the server's own offset.
      const [[offset]] = (await pool.query('SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), NOW(6)) / 1000 AS ms')) as unknown as [{ ms: string }[]];
      const offsetMs = Math.round(Number(offset?.ms ?? 0) / 1000) * 1000;
      for (const ids of chunks(eventIds)) {
        const [rows] = await pool.query(
          `SELECT event_id AS eventId, DATE_FORMAT(sent_at, '%Y-%m-%d %H:%i:%s.%f') AS sentAt FROM outbox WHERE event_id IN (?) AND sent_at IS NOT NULL`,
          [ids],
        );
        for (const row of rows as { eventId: string; sentAt: string }[]) {
          const sample = viewed.get(row.eventId);
          if (sample) sample.sentAt = utc(row.sentAt) - offsetMs;
        }
      }
    }
    if (sources.natsServers && sources.stream) {
      const stored = await streamTimestamps(sources.natsServers, sources.stream, new Set(eventIds));
      for (const [eventId, at] of stored) {
        const sample = viewed.get(eventId);
        if (sample) sample.storedAt = at;
      }
    }
    return [...viewed.values()];
  } finally {
    await Promise.all([...reads, ...orders].map((pool) => pool.end()));
  }
}

/**
 * When the stream stored each wanted message (by its Nats-Msg-Id), read with an ordered consumer from the
 * stream's first message to its last at the time of the call. Read-only: nothing is acked or deleted.
 */
export async function streamTimestamps(servers: string, stream: string, wanted: ReadonlySet<string>): Promise<Map<string, number>> {
  const nc = await connect({ servers: servers.split(',').map((s) => s.trim()), name: 'bench-lag' });
  const found = new Map<string, number>();
  let messages: ConsumerMessages | undefined;
  try {
    const js = nc.jetstream();
    const info = await (await nc.jetstreamManager()).streams.info(stream);
    const last = info.state.last_seq;
    if (info.state.messages === 0) return found;
    const consumer = await js.consumers.get(stream);
    messages = await consumer.consume({ max_messages: 1000 });
    for await (const msg of messages) {
      const id = (msg.headers ?? natsHeaders()).get('Nats-Msg-Id');
      if (id && wanted.has(id)) found.set(id, Math.round(msg.info.timestampNanos / 1e6));
      if (msg.seq >= last || found.size === wanted.size) break;
    }
    return found;
  } finally {
    await messages?.close();
    await nc.close();
  }
}
