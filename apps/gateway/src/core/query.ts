import { UsageError } from '@tresor/errors';

/** Parsers of query parameters: a bad value is a 400 naming the parameter. */

/** A positive integer query parameter, at most `max`; absent: the fallback. */
export function positiveInt(name: string, value: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`query ${name}: ${value} is not a positive integer`);
  return Math.min(n, max);
}

/** An ISO-8601 time query parameter. */
export function isoTime(name: string, value: string | undefined): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const t = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) throw new UsageError(`query ${name}: ${value} is not an ISO-8601 time`);
  return new Date(t);
}

/** One of the allowed values of a query parameter. */
export function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === '') return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`query ${name}: ${value}: expected ${allowed.join(', ')}`);
  return value as T;
}
