import { describe, expect, it } from 'vitest';
import { planFirings } from './firings.js';
import type { FiringInput } from './firings.js';
import { jitterMs, runId } from './jitter.js';
import { CronTimetable, OnceTimetable } from './timetable.js';

const every10s = new CronTimetable('*/10 * * * * *');
const t0 = new Date('2030-01-01T00:00:00Z');
const s = (sec: number): Date => new Date(t0.getTime() + sec * 1000);
const base: FiringInput = { scheduleId: 'sched-1', timetable: every10s, cursor: t0, now: t0, catchUp: 'skip', jitterMs: 0, graceMs: 30_000 };

describe('planFirings', () => {
  it('fires each due run once as time passes, and nothing early', () => {
    let cursor = t0;
    const fired: Date[] = [];
    for (let sec = -5; sec <= 61; sec += 3) {
      const p = planFirings({ ...base, cursor, now: s(sec) });
      fired.push(...p.fire);
      cursor = p.cursor!;
    }
    expect(fired).toEqual([0, 10, 20, 30, 40, 50, 60].map(s));
  });

  it('fires late runs within the grace in order (a leader took over)', () => {
    const p = planFirings({ ...base, now: s(25) });
    expect(p).toEqual({ fire: [s(0), s(10), s(20)], cursor: s(30), missed: null });
  });

  it('skips runs missed for longer than the grace', () => {
    const p = planFirings({ ...base, now: s(125) });
    expect(p).toEqual({ fire: [s(100), s(110), s(120)], cursor: s(130), missed: s(0) });
  });

  it('runs once for missed runs when nothing else fires', () => {
    const idle = { ...base, timetable: new CronTimetable('0 2 * * *'), graceMs: 60_000 };
    // Down from Monday 01:00 to Thursday 12:00: three 02:00 runs missed.
    const p = planFirings({ ...idle, cursor: new Date('2030-01-07T02:00:00Z'), now: new Date('2030-01-10T12:00:00Z'), catchUp: 'run-once' });
    expect(p).toEqual({ fire: [new Date('2030-01-07T02:00:00Z')], cursor: new Date('2030-01-11T02:00:00Z'), missed: new Date('2030-01-07T02:00:00Z') });
    // A replica looking an hour later (overlapping in a failover) names the same catch-up run.
    const later = planFirings({ ...idle, cursor: new Date('2030-01-07T02:00:00Z'), now: new Date('2030-01-10T13:00:00Z'), catchUp: 'run-once' });
    expect(later.fire).toEqual(p.fire);
    const skip = planFirings({ ...idle, cursor: new Date('2030-01-07T02:00:00Z'), now: new Date('2030-01-10T12:00:00Z') });
    expect(skip.fire).toEqual([]);
    expect(skip.cursor).toEqual(new Date('2030-01-11T02:00:00Z'));
  });

  it('does not add a catch-up run when a run in the grace fires anyway', () => {
    const p = planFirings({ ...base, now: s(125), catchUp: 'run-once' });
    expect(p.fire).toEqual([s(100), s(110), s(120)]);
  });

  it('delays each run by its own jitter, the same for every caller', () => {
    const j = [0, 10, 20].map((sec) => jitterMs(runId('sched-1', s(sec)), 5000));
    const at = (ms: number) => planFirings({ ...base, jitterMs: 5000, now: new Date(t0.getTime() + ms) }).fire.length;
    expect(at(j[0]! - 1)).toBe(0);
    expect(at(j[0]!)).toBe(1);
    expect(at(10_000 + j[1]!)).toBe(2);
    expect(at(20_000 + j[2]! - 1)).toBe(2);
  });

  it('ends a one-off timetable after its run', () => {
    const p = planFirings({ ...base, timetable: new OnceTimetable(s(5)), now: s(6) });
    expect(p).toEqual({ fire: [s(5)], cursor: null, missed: null });
  });

  it('caps the runs of one call', () => {
    const p = planFirings({ ...base, now: s(25), limit: 2 });
    expect(p).toEqual({ fire: [s(0), s(10)], cursor: s(20), missed: null });
  });
});
