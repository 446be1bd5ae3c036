import { DiscardPolicy, JetStreamManager, nanos, NatsConnection, NatsError, RetentionPolicy, StorageType, StreamConfig } from 'nats';
import { ORDER_EVENT_SUBJECT_PREFIX, orderEventSubjects, ORDERS_STREAM } from './subjects';

export interface StreamOptions {
  name: string;
  subjects: string[];
  /**
   * How long JetStream remembers a message id to drop a re-publish of it. Must outlast the longest time
   * a publisher may re-send one message (the outbox relay's retry horizon), or a late re-send is stored twice.
   */
  duplicateWindowMs: number;
  /** Oldest message kept; 0 or absent keeps messages until other limits apply. At least the duplicate window. */
  maxAgeMs?: number;
  /** Most bytes kept (the oldest messages go first); -1 or absent: no byte limit. */
  maxBytes?: number;
  /** Copies in a cluster (1 on a single server, 3 in production). */
  replicas?: number;
}

/** Two hours: far beyond any relay back-off (seconds) or restart, short enough to keep the id map small. */
export const ORDERS_DUPLICATE_WINDOW_MS = 2 * 60 * 60 * 1000;

/**
 * The ORDERS stream's default bounds: a week of events, at most 1 GiB (JetStream reserves max_bytes on
 * the server's disk at creation, so it must fit the NATS volume). Both are far beyond any consumer's
 * recovery horizon: the relay re-sends unsent rows from the outbox whatever the stream holds, and
 * order-query's durable consumer catches up within minutes of an outage, never days.
 */
export const ORDERS_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
export const ORDERS_MAX_BYTES = 1024 * 1024 * 1024;

/** The ORDERS stream: every order event kind under the prefix, file storage, limits retention. */
export function ordersStream(options: Partial<StreamOptions> & { prefix?: string } = {}): StreamOptions {
  const { prefix = ORDER_EVENT_SUBJECT_PREFIX, ...rest } = options;
  return { name: ORDERS_STREAM, subjects: [orderEventSubjects(prefix)], duplicateWindowMs: ORDERS_DUPLICATE_WINDOW_MS, ...rest };
}

const STREAM_NAME = /^[^.*>\s/\\]+$/;

/** Validates the options and turns them into the JetStream configuration ensureStream asks for. */
export function streamConfig(options: StreamOptions): Partial<StreamConfig> & Pick<StreamConfig, 'name' | 'subjects'> {
  const { name, subjects, duplicateWindowMs, maxAgeMs = 0, maxBytes = -1, replicas = 1 } = options;
  if (!STREAM_NAME.test(name)) throw new Error(`invalid stream name "${name}": no dots, wildcards, slashes or spaces`);
  if (subjects.length === 0 || subjects.some((s) => s.trim() === '' || /\s/.test(s))) {
    throw new Error(`stream ${name} needs at least one subject, without spaces`);
  }
  if (!Number.isInteger(duplicateWindowMs) || duplicateWindowMs <= 0) throw new Error(`stream ${name}: duplicateWindowMs must be a positive integer`);
  if (!Number.isInteger(maxAgeMs) || maxAgeMs < 0) throw new Error(`stream ${name}: maxAgeMs must be a non-negative integer`);
  if (maxAgeMs > 0 && maxAgeMs < duplicateWindowMs)
    throw new Error(`stream ${name}: maxAgeMs (${maxAgeMs}) must be at least duplicateWindowMs (${duplicateWindowMs})`);
  if (!Number.isSafeInteger(maxBytes) || (maxBytes !== -1 && maxBytes <= 0))
    throw new Error(`stream ${name}: maxBytes must be -1 (no limit) or a positive integer`);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new Error(`stream ${name}: replicas must be 1 to 5`);
  return {
    name,
    subjects: [...subjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(duplicateWindowMs),
    max_age: nanos(maxAgeMs),
    max_bytes: maxBytes,
    num_replicas: replicas,
  };
}

/** What differs between a stream's current configuration and the wanted one; throws when it cannot be updated in place. */
export function streamChanges(current: StreamConfig, wanted: ReturnType<typeof streamConfig>): string[] {
  for (const fixed of ['storage', 'retention'] as const) {
    if (wanted[fixed] !== undefined && current[fixed] !== wanted[fixed]) {
      throw new Error(`stream ${current.name} has ${fixed} "${current[fixed]}", wanted "${wanted[fixed]}": JetStream cannot change that in place`);
    }
  }
  const changes: string[] = [];
  const sorted = (subjects: string[] = []) => [...subjects].sort().join('\n');
  if (sorted(current.subjects) !== sorted(wanted.subjects)) changes.push('subjects');
  for (const key of ['duplicate_window', 'max_age', 'max_bytes', 'num_replicas', 'discard'] as const) {
    if (wanted[key] !== undefined && current[key] !== wanted[key]) changes.push(key);
  }
  return changes;
}

function isStreamNotFound(error: unknown): boolean {
  // JSStreamNotFoundErr is 10059; older servers only say it in words.
  return error instanceof NatsError && (error.api_error?.err_code === 10059 || error.message === 'stream not found');
}

/**
 * Creates the stream, or brings an existing one to these settings. Idempotent, so every service that
 * publishes or consumes may call it at start.
 */
export async function ensureStream(nc: NatsConnection, options: StreamOptions): Promise<{ action: 'created' | 'updated' | 'unchanged'; changes: string[] }> {
  const wanted = streamConfig(options);
  const jsm: JetStreamManager = await nc.jetstreamManager();
  let current: StreamConfig;
  try {
    current = (await jsm.streams.info(wanted.name)).config;
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
    try {
      await jsm.streams.add(wanted);
      return { action: 'created', changes: [] };
    } catch (addError) {
      // Another service created it meanwhile: fall through and compare.
      current = (await jsm.streams.info(wanted.name).catch(() => Promise.reject(addError))).config;
    }
  }
  const changes = streamChanges(current, wanted);
  if (changes.length === 0) return { action: 'unchanged', changes };
  const { subjects, duplicate_window, max_age, max_bytes, num_replicas, discard } = wanted;
  await jsm.streams.update(wanted.name, { subjects, duplicate_window, max_age, max_bytes, num_replicas, discard });
  return { action: 'updated', changes };
}
