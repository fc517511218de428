import { describe, expect, it } from 'vitest';
import { LevelPlan } from './plan.js';
import { CronTimetable } from './timetable.js';

describe('LevelPlan', () => {
  it('runs a full backup on Sundays and incrementals otherwise', () => {
    const daily = new CronTimetable('0 2 * * *', 'Europe/Berlin');
    const plan = new LevelPlan([{ cron: '* * * * 0', level: 'full' }], 'incremental', 'Europe/Berlin');
    const levels: string[] = [];
    let t = new Date('2030-01-01T00:00:00Z'); // a Tuesday
    for (let i = 0; i < 14; i++) {
      t = daily.atOrAfter(new Date(t.getTime() + 1))!;
      levels.push(plan.levelAt(t));
    }
    // Tuesday to Saturday, Sunday, Monday to Saturday, Sunday, Monday.
    expect(levels).toEqual([...Array(5).fill('incremental'), 'full', ...Array(6).fill('incremental'), 'full', 'incremental']);
  });

  it('takes the first matching rule, in the plan time zone', () => {
    const plan = new LevelPlan(
      [
        { cron: '0 0 1 * *', level: 'full' },
        { cron: '0 0 * * 0', level: 'differential' },
      ],
      'incremental',
      'America/New_York',
    );
    // 2030-09-01 is a Sunday: midnight in New York is 04:00 UTC.
    expect(plan.levelAt(new Date('2030-09-01T04:00:00Z'))).toBe('full');
    expect(plan.levelAt(new Date('2030-09-08T04:00:00Z'))).toBe('differential');
    expect(plan.levelAt(new Date('2030-09-08T00:00:00Z'))).toBe('incremental');
  });
});
