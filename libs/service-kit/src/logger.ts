import pino from 'pino';
import { requestIdMixin } from './request-context';

export type Logger = pino.Logger;

export function createLogger(service: string, level: string = 'info'): Logger {
  return pino({ name: service, level, redact: ['authorization', 'req.headers.authorization', '*.password'], mixin: requestIdMixin });
}
