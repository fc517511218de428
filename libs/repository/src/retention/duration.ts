import { UsageError } from '@tresor/errors';

/** A calendar duration as restic writes it (`1y6m`, `30d`, `2w`, `12h`): years, months, weeks, days, hours. */
export interface CalendarDuration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
}

const UNITS = { y: 'years', m: 'months', w: 'weeks', d: 'days', h: 'hours' } as const;

/** Parses `30d`, `1y6m`, `2w3d12h`; each unit at most once. UsageError naming the text otherwise. */
export function parseDuration(text: string, what = 'duration'): CalendarDuration {
  const result = { years: 0, months: 0, weeks: 0, days: 0, hours: 0 };
  const seen = new Set<string>();
  const form = `${what} '${text}' is not a duration like 30d, 12h, 2w or 1y6m (units y, m, w, d, h)`;
  if (!/^(\d+[ymwdh])+$/.test(text)) throw new UsageError(form);
  for (const [, count, unit] of text.matchAll(/(\d+)([ymwdh])/g)) {
    if (seen.has(unit!)) throw new UsageError(form);
    seen.add(unit!);
    const value = Number(count);
    if (!Number.isSafeInteger(value) || value > 100_000) throw new UsageError(`${what} '${text}' is too large`);
    result[UNITS[unit as keyof typeof UNITS]] = value;
  }
  return result;
}

/** `time` minus the duration, in UTC calendar arithmetic (a month back from 31 March is 3 March, as in Go's AddDate). */
export function subtractDuration(time: Date, duration: CalendarDuration): Date {
  const t = new Date(time.getTime());
  t.setUTCFullYear(
    t.getUTCFullYear() - duration.years,
    t.getUTCMonth() - duration.months,
    t.getUTCDate() - duration.days - 7 * duration.weeks,
  );
  t.setUTCHours(t.getUTCHours() - duration.hours);
  return t;
}
