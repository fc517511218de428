import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** Field paths that must never reach a log line, whatever a caller passes. */
export const REDACTED_PATHS = [
  'passphrase',
  '*.passphrase',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'password',
  '*.password',
  'secret',
  '*.secret',
];

/** Structured JSON logs on stdout (pino); child loggers carry `traceId` and `jobId`. */
export function createLogger(service: string, instance: string, level = process.env.TRESOR_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service, instance },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  });
}
