import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses environment variables with a zod schema whose keys are the variable names. Fails fast,
 * naming every bad variable, so a service never boots half-configured.
 */
export function readEnv<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return result.data;
}

/** Reusable variable types. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(fallback),
  string: (fallback: string) => z.string().min(1).default(fallback),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  /** Comma-separated host:port list. */
  hostPorts: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .transform((value, ctx) =>
        value.split(',').map((entry) => {
          const match = /^\s*([^:\s]+):(\d{1,5})\s*$/.exec(entry);
          if (!match) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${entry}" is not host:port` });
            return { host: '', port: 0 };
          }
          return { host: match[1] as string, port: Number(match[2]) };
        }),
      ),
  /** A concrete NATS subject: dot-separated tokens, no wildcards or spaces. */
  natsSubject: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .refine((value) => /^[^.*>\s]+(\.[^.*>\s]+)*$/.test(value), 'must be dot-separated tokens without wildcards or spaces'),
  /** A JetStream stream or consumer name. */
  natsName: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .refine((value) => /^[^.*>\s/\\]+$/.test(value), 'must have no dots, wildcards, slashes or spaces'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Comma-separated "host:port/database" list: one entry per shard, the index is the shard number. */
  shardList: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .transform((value, ctx) =>
        value.split(',').map((entry) => {
          const match = /^\s*([^:/\s]+):(\d{1,5})\/([A-Za-z0-9_]+)\s*$/.exec(entry);
          if (!match) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${entry}" is not host:port/database` });
            return { host: '', port: 0, database: '' };
          }
          return { host: match[1] as string, port: Number(match[2]), database: match[3] as string };
        }),
      ),
};

/**
 * The variables of the order event stream. order-command publishes to it and order-query consumes it, and
 * both declare the stream at start: they read the same variables with the same defaults, or each start
 * would change the stream back. `bounds`: the stream's default limits (libs/messaging).
 */
export function eventStreamVariables(bounds: { maxAgeMs: number; maxBytes: number }) {
  return {
    NATS_SERVERS: env.string('127.0.0.1:14222'),
    ORDERS_STREAM: env.natsName('ORDERS'),
    ORDER_EVENT_SUBJECT_PREFIX: env.natsSubject('orders.v1'),
    ORDERS_STREAM_DUPLICATE_WINDOW_MS: env.int(2 * 3600_000, 1000),
    /** Bounds of the stream (the oldest events go first): far beyond every consumer's recovery horizon. 0 = no limit. */
    ORDERS_STREAM_MAX_AGE_MS: env.int(bounds.maxAgeMs, 0),
    ORDERS_STREAM_MAX_BYTES: env.int(bounds.maxBytes, 0),
    /** Copies of the stream in a NATS cluster: 1 on one server, 3 in production. */
    ORDERS_STREAM_REPLICAS: env.int(1, 1, 5),
  };
}

type EventStreamEnv = z.infer<z.ZodObject<ReturnType<typeof eventStreamVariables>>>;

/** The stream settings from its variables; an age limit shorter than the duplicate window is refused. */
export function eventStreamSettings(e: EventStreamEnv) {
  if (e.ORDERS_STREAM_MAX_AGE_MS > 0 && e.ORDERS_STREAM_MAX_AGE_MS < e.ORDERS_STREAM_DUPLICATE_WINDOW_MS) {
    throw new ConfigError([
      `ORDERS_STREAM_MAX_AGE_MS: ${e.ORDERS_STREAM_MAX_AGE_MS} is shorter than ` +
        `ORDERS_STREAM_DUPLICATE_WINDOW_MS (${e.ORDERS_STREAM_DUPLICATE_WINDOW_MS}); 0 means no age limit`,
    ]);
  }
  return {
    servers: e.NATS_SERVERS,
    stream: e.ORDERS_STREAM,
    subjectPrefix: e.ORDER_EVENT_SUBJECT_PREFIX,
    duplicateWindowMs: e.ORDERS_STREAM_DUPLICATE_WINDOW_MS,
    maxAgeMs: e.ORDERS_STREAM_MAX_AGE_MS,
    /** -1: no byte limit (JetStream's word for it). */
    maxBytes: e.ORDERS_STREAM_MAX_BYTES === 0 ? -1 : e.ORDERS_STREAM_MAX_BYTES,
    replicas: e.ORDERS_STREAM_REPLICAS,
  };
}
