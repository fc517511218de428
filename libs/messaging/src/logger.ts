import { pino } from 'pino';
import type { Logger } from 'pino';
import { isSecretKey, redactText, redactValue, REDACTED } from '@tresor/errors';

export type { Logger };

/** Field paths pino censors itself (cheap, before serialisation); any other secret-named field is censored by `redactValue`. */
export const REDACTED_PATHS = [
  'passphrase',
  '*.passphrase',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  'password',
  '*.password',
  'secret',
  '*.secret',
];

/**
 * Structured JSON logs on stdout (pino); child loggers carry `traceId` and `jobId`. Every line
 * goes through the redaction layer of @tresor/errors (ADR 0021): secret-named fields at any depth
 * are censored and registered secret values are replaced in the finished line, whatever carried them.
 */
export function createLogger(service: string, instance: string, level = process.env.TRESOR_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service, instance },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: REDACTED },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => (hasSecretKey(object) ? redactValue(object) : object),
    },
    hooks: { streamWrite: (line) => redactText(line) },
  });
}

// Most log objects are flat and clean: skip the deep copy unless a secret-named field is present somewhere.
function hasSecretKey(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object' || depth > 8 || value instanceof Error) return false;
  for (const [key, item] of Object.entries(value)) {
    if (isSecretKey(key) || hasSecretKey(item, depth + 1)) return true;
  }
  return false;
}
