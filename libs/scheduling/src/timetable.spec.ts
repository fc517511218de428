import { describe, expect, it } from 'vitest';
import { UsageError } from '@tresor/errors';
import { CronTimetable, IntervalTimetable, OnceTimetable } from './timetable.js';

const at = (iso: string): Date => new Date(iso);

describe('CronTimetable', () => {
  it('finds the next due time at or after a time, and the last one strictly before', () => {
    const t = new CronTimetable('*/5 * * * * *');
    expect(t.atOrAfter(at('2030-01-01T00:00:05Z'))).toEqual(at('2030-01-01T00:00:05Z'));
    expect(t.atOrAfter(at('2030-01-01T00:00:05.001Z'))).toEqual(at('2030-01-01T00:00:10Z'));
    expect(t.before(at('2030-01-01T00:00:10Z'))).toEqual(at('2030-01-01T00:00:05Z'));
    expect(t.before(at('2030-01-01T00:00:10.001Z'))).toEqual(at('2030-01-01T00:00:10Z'));
  });

  it('reads 5 fields as minutes and 6 fields with a leading seconds field', () => {
    expect(new CronTimetable('30 2 * * *').atOrAfter(at('2030-01-01T00:00:00Z'))).toEqual(at('2030-01-01T02:30:00Z'));
    expect(new CronTimetable('15 30 2 * * *').atOrAfter(at('2030-01-01T00:00:00Z'))).toEqual(at('2030-01-01T02:30:15Z'));
  });

  it('fires at the wall-clock time of its time zone, across a daylight-saving change', () => {
    const t = new CronTimetable('0 2 * * *', 'Europe/Berlin');
    // Berlin is UTC+1 until 2030-03-31 02:00, UTC+2 after.
    expect(t.atOrAfter(at('2030-03-29T12:00:00Z'))).toEqual(at('2030-03-30T01:00:00Z'));
    expect(t.atOrAfter(at('2030-04-01T00:00:00Z'))).toEqual(at('2030-04-01T00:00:00Z'));
  });

  it('names the expression or time zone that is wrong', () => {
    expect(() => new CronTimetable('* * * *')).toThrow(UsageError);
    expect(() => new CronTimetable('* * * *')).toThrow(/4 fields/);
    expect(() => new CronTimetable('0 0 0 * * * 2030')).toThrow(/7 fields/);
    expect(() => new CronTimetable('61 * * * *')).toThrow(/'61 \* \* \* \*'/);
    expect(() => new CronTimetable('* * * * *', 'Mars/Base')).toThrow(/time zone 'Mars\/Base'/);
  });

  it('tells whether a time is one the expression names', () => {
    const sundays = new CronTimetable('* * * * 0');
    expect(sundays.matches(at('2030-01-06T23:59:00Z'))).toBe(true);
    expect(sundays.matches(at('2030-01-07T00:00:00Z'))).toBe(false);
  });
});

describe('IntervalTimetable and OnceTimetable', () => {
  it('steps an interval from its start', () => {
    const t = new IntervalTimetable(at('2030-01-01T00:00:00Z'), 10_000);
    expect(t.atOrAfter(at('2029-12-31T00:00:00Z'))).toEqual(at('2030-01-01T00:00:00Z'));
    expect(t.atOrAfter(at('2030-01-01T00:00:00.001Z'))).toEqual(at('2030-01-01T00:00:10Z'));
    expect(t.before(at('2030-01-01T00:00:10Z'))).toEqual(at('2030-01-01T00:00:00Z'));
    expect(t.before(at('2030-01-01T00:00:00Z'))).toBeNull();
    expect(() => new IntervalTimetable(at('2030-01-01T00:00:00Z'), 10)).toThrow(/at least 1000 ms/);
  });

  it('is due once', () => {
    const t = new OnceTimetable(at('2030-01-01T00:00:00Z'));
    expect(t.atOrAfter(at('2029-01-01T00:00:00Z'))).toEqual(at('2030-01-01T00:00:00Z'));
    expect(t.atOrAfter(at('2030-01-01T00:00:00.001Z'))).toBeNull();
    expect(t.before(at('2030-01-01T00:00:01Z'))).toEqual(at('2030-01-01T00:00:00Z'));
  });
});
