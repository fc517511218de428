import { UsageError } from '@tresor/errors';

/** Wall-clock fields of an instant in some time zone. */
export interface LocalTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
}

/** The calendar periods of the grandfather-father-son rules. */
export type Period = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const DAY_MS = 86_400_000;

/**
 * Names the hour, day, ISO week, month and year an instant falls in, as seen in one IANA time
 * zone (`UTC` by default). Two backups in the same bucket share the name.
 */
export class Buckets {
  private readonly format?: Intl.DateTimeFormat;
  /** The zone's UTC offset (ms) through each UTC day, or null for a day with a change of offset. */
  private readonly offsetOfDay = new Map<number, number | null>();

  private static readonly shared = new Map<string, Buckets>();

  /** The Buckets of a zone, shared so that its formatter and offsets are computed once per process. */
  static of(timeZone = 'UTC'): Buckets {
    let buckets = Buckets.shared.get(timeZone);
    if (!buckets) Buckets.shared.set(timeZone, (buckets = new Buckets(timeZone)));
    return buckets;
  }

  constructor(readonly timeZone = 'UTC') {
    if (timeZone !== 'UTC') {
      try {
        this.format = new Intl.DateTimeFormat('en-US', {
          timeZone,
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
          hourCycle: 'h23',
        });
      } catch {
        throw new UsageError(`time zone '${timeZone}' is not an IANA time zone name (e.g. UTC, Europe/Berlin)`);
      }
    }
  }

  /** The name of the bucket of `period` that `time` falls in, e.g. `2026-11-26`, `2026-W48`. */
  name(period: Period, time: Date | LocalTime): string {
    const t = time instanceof Date ? this.local(time) : time;
    switch (period) {
      case 'hourly':
        return `${t.year}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}`;
      case 'daily':
        return `${t.year}-${pad(t.month)}-${pad(t.day)}`;
      case 'weekly': {
        const { year, week } = isoWeek(t.year, t.month, t.day);
        return `${year}-W${pad(week)}`;
      }
      case 'monthly':
        return `${t.year}-${pad(t.month)}`;
      case 'yearly':
        return String(t.year);
    }
  }

  /** The wall-clock time of `time` in this zone (compute once, name several buckets with it). */
  local(time: Date): LocalTime {
    if (!this.format) {
      return { year: time.getUTCFullYear(), month: time.getUTCMonth() + 1, day: time.getUTCDate(), hour: time.getUTCHours() };
    }
    // Formatting in a zone is slow; offsets change at most once a day, so most days need two.
    const day = Math.floor(time.getTime() / DAY_MS);
    let offset = this.offsetOfDay.get(day);
    if (offset === undefined) {
      const start = this.offsetAt(day * DAY_MS);
      offset = start === this.offsetAt((day + 1) * DAY_MS - 1000) ? start : null;
      this.offsetOfDay.set(day, offset);
    }
    if (offset === null) return this.formatted(time);
    const shifted = new Date(time.getTime() + offset);
    return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate(), hour: shifted.getUTCHours() };
  }

  private formatted(time: Date): LocalTime & { minute: number; second: number } {
    const parts: Record<string, number> = {};
    for (const part of this.format!.formatToParts(time)) {
      if (part.type !== 'literal') parts[part.type] = Number(part.value);
    }
    return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
  }

  private offsetAt(ms: number): number {
    const t = this.formatted(new Date(ms));
    return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - Math.floor(ms / 1000) * 1000;
  }
}

/** ISO 8601 week of a calendar date: weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  // The Thursday of the same week decides which year the week belongs to.
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const isoYear = date.getUTCFullYear();
  const dayOfYear = Math.floor((date.getTime() - Date.UTC(isoYear, 0, 1)) / 86_400_000) + 1;
  return { year: isoYear, week: Math.floor((dayOfYear - 1) / 7) + 1 };
}
