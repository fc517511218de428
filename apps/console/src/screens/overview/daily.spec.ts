import { describe, expect, it } from 'vitest';
import { dailyBuckets, localDay, niceMax } from './daily';
import type { BackupRecord, JobRecord } from './types';

describe('overview chart data', () => {
  it('rounds axis maxima up to 1, 2 or 5 of a decade, in bytes within a binary unit', () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(3)).toBe(5);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(11)).toBe(20);
    expect(niceMax(46, 1024)).toBe(50);
    expect(niceMax(700, 1024)).toBe(1000);
    expect(niceMax(3 * 1024 * 1024, 1024)).toBe(5 * 1024 * 1024);
    expect(niceMax(150 * 1024 ** 3, 1024)).toBe(200 * 1024 ** 3);
  });

  it('counts backup job outcomes and bytes per local day over the window, oldest day first', () => {
    const now = new Date(2026, 10, 26, 12, 0, 0);
    const at = (daysAgo: number) => new Date(2026, 10, 26 - daysAgo, 10, 0, 0).toISOString();
    const job = (state: JobRecord['state'], daysAgo: number, kind: JobRecord['kind'] = 'backup'): JobRecord => ({ id: `${state}${daysAgo}${kind}`, kind, state, createdAt: at(daysAgo), updatedAt: at(daysAgo) });
    const jobs = [job('completed', 0), job('failed', 0), job('completed', 2), job('running', 0), job('completed', 0, 'restore'), job('failed', 40)];
    const backups: BackupRecord[] = [
      { id: 'b1', sourceId: 's', createdAt: at(0), completedAt: at(0), bytesIn: 1000, bytesStored: 400 },
      { id: 'b2', sourceId: 's', createdAt: at(2), completedAt: at(2), bytesIn: 2000, bytesStored: 900 },
    ];
    const days = dailyBuckets(now, 30, jobs, backups);
    expect(days).toHaveLength(30);
    expect(days[29]).toEqual({ day: localDay(now), succeeded: 1, failed: 1, bytesIn: 1000, bytesStored: 400 });
    expect(days[27]).toMatchObject({ succeeded: 1, failed: 0, bytesStored: 900 });
    expect(days.reduce((n, d) => n + d.succeeded + d.failed, 0)).toBe(3);
    expect(days[0]!.day < days[29]!.day).toBe(true);
  });
});
