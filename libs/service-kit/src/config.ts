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
