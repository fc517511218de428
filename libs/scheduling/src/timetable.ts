import { Cron } from 'croner';
import { UsageError } from '@tresor/errors';

/** When a schedule is due: a cron expression, a fixed interval or a single time. */
export interface Timetable {
  /** The first due time at or after `t`; null when there is none (a one-off that has passed). */
  atOrAfter(t: Date): Date | null;
  /** The last due time strictly before `t`; null when there is none. */
  before(t: Date): Date | null;
}

/** Cron timetable (5 fields: minute precision, 6 fields: a leading seconds field) in an IANA time zone. */
export class CronTimetable implements Timetable {
  private readonly cron: Cron;

  constructor(
    readonly expression: string,
    readonly timezone = 'UTC',
  ) {
    const fields = expression.trim().split(/\s+/).length;
    if (fields !== 5 && fields !== 6) throw new UsageError(`cron expression '${expression}' has ${fields} fields: use 5 (minute hour day month weekday) or 6 (second first)`);
    if (!isTimeZone(timezone)) throw new UsageError(`time zone '${timezone}' is not an IANA time zone (e.g. UTC, Europe/Berlin)`);
    try {
      this.cron = new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' });
    } catch (err) {
      throw new UsageError(`cron expression '${expression}': ${(err as Error).message.replace(/^CronPattern: /, '')}`);
    }
    if (!this.cron.nextRun(new Date(0))) throw new UsageError(`cron expression '${expression}' never fires`);
  }

  atOrAfter(t: Date): Date | null {
    // croner looks strictly after its reference, at whole seconds.
    return this.cron.nextRun(new Date(Math.ceil(t.getTime() / 1000) * 1000 - 1000));
  }

  before(t: Date): Date | null {
    // croner's previous run is strictly before the whole second of its reference; step back past `t`.
    let c: Date | undefined = this.cron.previousRuns(1, new Date(Math.floor(t.getTime() / 1000) * 1000 + 1000))[0];
    while (c && c.getTime() >= t.getTime()) c = this.cron.previousRuns(1, c)[0];
    return c ?? null;
  }

  /** Whether `t` (to the second) is a time this expression names. */
  matches(t: Date): boolean {
    return this.cron.match(new Date(Math.floor(t.getTime() / 1000) * 1000));
  }
}

/** Every `everyMs` from `start`. */
export class IntervalTimetable implements Timetable {
  constructor(
    readonly start: Date,
    readonly everyMs: number,
  ) {
    if (!Number.isInteger(everyMs) || everyMs < 1000) throw new UsageError(`interval ${everyMs} ms: use a whole number of at least 1000 ms`);
  }

  atOrAfter(t: Date): Date | null {
    const k = Math.max(0, Math.ceil((t.getTime() - this.start.getTime()) / this.everyMs));
    return new Date(this.start.getTime() + k * this.everyMs);
  }

  before(t: Date): Date | null {
    if (t.getTime() <= this.start.getTime()) return null;
    const k = Math.ceil((t.getTime() - this.start.getTime()) / this.everyMs) - 1;
    return new Date(this.start.getTime() + k * this.everyMs);
  }
}

/** Once, at `at`. */
export class OnceTimetable implements Timetable {
  constructor(readonly at: Date) {}

  atOrAfter(t: Date): Date | null {
    return t.getTime() <= this.at.getTime() ? this.at : null;
  }

  before(t: Date): Date | null {
    return this.at.getTime() < t.getTime() ? this.at : null;
  }
}

/** Whether the runtime knows `tz` as an IANA time zone. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
