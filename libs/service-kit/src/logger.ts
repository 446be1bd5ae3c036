import pino from 'pino';
import pretty from 'pino-pretty';
import { requestIdMixin } from './request-context';

export type Logger = pino.Logger;

/** JSON lines for machines (containers, pipes, CI, tests); one readable line per event for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

/** Pretty when the output is a terminal: under `npm start` the services inherit it. JSON otherwise. */
export function logFormatFor(output: { isTTY?: boolean } = process.stdout): LogFormat {
  return output.isTTY ? 'pretty' : 'json';
}

/**
 * pino-pretty as a synchronous stream (no worker thread; only a terminal gets it): one line per event with a short
 * time, the level, the process (name/pid, so replicas and the outbox relay tell apart) and the message, then the fields.
 */
export function prettyLogStream(destination: number | NodeJS.WritableStream = 1, colorize?: boolean): NodeJS.WritableStream {
  return pretty({
    destination,
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'hostname',
    ...(colorize === undefined ? {} : { colorize }),
  });
}

export function createLogger(service: string, level: string = 'info', format: LogFormat = logFormatFor()): Logger {
  const options = { name: service, level, redact: ['authorization', 'req.headers.authorization', '*.password'], mixin: requestIdMixin };
  return format === 'pretty' ? pino(options, prettyLogStream()) : pino(options);
}
