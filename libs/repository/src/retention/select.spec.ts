import { describe, expect, it } from 'vitest';
import { UsageError } from '@tresor/errors';
import { generateHistory } from './history.fixture.js';
import type { GeneratedBackup } from './history.fixture.js';
import { isoWeek } from './buckets.js';
import { parseDuration } from './duration.js';
import { RetentionPolicy, selectRetention } from './select.js';
import type { RetentionAction } from './select.js';

const NOW = new Date('2026-11-26T09:00:00Z');
const DAY = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Reference computation: the rules written down as directly as possible (group into buckets,
// newest backup per bucket, newest N buckets; then repeat the chain rule until nothing changes).
// It shares no code with select.ts, so the two agreeing is evidence for both.
// ---------------------------------------------------------------------------------------------

interface RefPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithinDays?: number;
  keepTags?: string[];
  retentionDays?: number;
  maxBackups?: number;
  timeZone?: string;
}

/** ISO week by counting from the Monday of week 1 (the week holding 4 January). */
function refIsoWeek(dateText: string): string {
  const day = Date.parse(`${dateText}T00:00:00Z`);
  for (const year of [Number(dateText.slice(0, 4)) + 1, Number(dateText.slice(0, 4)), Number(dateText.slice(0, 4)) - 1]) {
    const jan4 = Date.UTC(year, 0, 4);
    const monday = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY;
    if (day >= monday) return `${year}-W${String(Math.floor((day - monday) / (7 * DAY)) + 1).padStart(2, '0')}`;
  }
  throw new Error('unreachable');
}

/** `YYYY-MM-DD HH` of an instant in a time zone ('sv-SE' formats dates that way). */
const formats = new Map<string, Intl.DateTimeFormat>();
function refLocal(iso: string, timeZone: string): string {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, format);
  }
  return format.format(new Date(iso)).slice(0, 13);
}

function refBucket(period: string, iso: string, timeZone: string): string {
  const local = refLocal(iso, timeZone);
  if (period === 'hourly') return local;
  if (period === 'daily') return local.slice(0, 10);
  if (period === 'weekly') return refIsoWeek(local.slice(0, 10));
  if (period === 'monthly') return local.slice(0, 7);
  return local.slice(0, 4);
}

function reference(backups: readonly GeneratedBackup[], policy: RefPolicy, now: Date): Map<string, RetentionAction> {
  const tz = policy.timeZone ?? 'UTC';
  const byTime = (a: GeneratedBackup, b: GeneratedBackup) => Date.parse(b.createdAt) - Date.parse(a.createdAt);
  const kept = new Set<string>();
  for (const sourceId of new Set(backups.map((b) => b.sourceId))) {
    const mine = backups.filter((b) => b.sourceId === sourceId).sort(byTime);
    const ruleKept = new Set<string>();
    mine.slice(0, policy.keepLast ?? 0).forEach((b) => ruleKept.add(b.id));
    for (const [period, n] of [
      ['hourly', policy.keepHourly], ['daily', policy.keepDaily], ['weekly', policy.keepWeekly],
      ['monthly', policy.keepMonthly], ['yearly', policy.keepYearly],
    ] as const) {
      if (!n) continue;
      const newestOf = new Map<string, GeneratedBackup>();
      for (const b of mine) if (!newestOf.has(refBucket(period, b.createdAt, tz))) newestOf.set(refBucket(period, b.createdAt, tz), b);
      [...newestOf.values()].sort(byTime).slice(0, n).forEach((b) => ruleKept.add(b.id));
    }
    if (policy.keepWithinDays !== undefined) {
      const newest = Date.parse(mine[0]!.createdAt);
      mine.filter((b) => Date.parse(b.createdAt) > newest - policy.keepWithinDays! * DAY).forEach((b) => ruleKept.add(b.id));
    }
    mine.filter((b) => b.tags.some((t) => policy.keepTags?.includes(t))).forEach((b) => ruleKept.add(b.id));
    if (policy.retentionDays !== undefined) {
      mine.filter((b) => Date.parse(b.createdAt) >= now.getTime() - policy.retentionDays! * DAY).forEach((b) => ruleKept.add(b.id));
    }
    let survivors = mine.filter((b) => ruleKept.has(b.id));
    if (policy.maxBackups !== undefined) {
      survivors = (ruleKept.size === 0 && Object.keys(policy).every((k) => ['maxBackups', 'timeZone'].includes(k)) ? mine : survivors).slice(0, policy.maxBackups);
    }
    survivors.forEach((b) => kept.add(b.id));
  }
  const action = new Map<string, RetentionAction>();
  for (const b of backups) {
    action.set(b.id, kept.has(b.id) ? 'keep' : b.lockedUntil && b.lockedUntil > now ? 'deferred' : 'forget');
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const b of backups) {
      if (action.get(b.id) === 'forget') continue;
      for (const id of b.dataBackupIds) {
        if (id !== b.id && action.has(id) && action.get(id) !== 'keep') {
          action.set(id, 'keep');
          changed = true;
        }
      }
    }
  }
  return action;
}

function toPolicy(p: RefPolicy): RetentionPolicy {
  const { keepWithinDays, ...rest } = p;
  return { ...rest, ...(keepWithinDays !== undefined ? { keepWithin: `${keepWithinDays}d` } : {}) };
}

const history = [...generateHistory('src-a', NOW, 1), ...generateHistory('src-b', new Date(NOW.getTime() - 40 * DAY), 2)];

const cases: { name: string; policy: RefPolicy }[] = [
  { name: 'keep-last 10', policy: { keepLast: 10 } },
  { name: 'keep-hourly 24', policy: { keepHourly: 24 } },
  { name: 'keep-daily 7', policy: { keepDaily: 7 } },
  { name: 'keep-weekly 8', policy: { keepWeekly: 8 } },
  { name: 'keep-monthly 12', policy: { keepMonthly: 12 } },
  { name: 'keep-yearly 5', policy: { keepYearly: 5 } },
  { name: 'GFS 24/7/4/12/3', policy: { keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 3 } },
  { name: 'keep-within 30d', policy: { keepWithinDays: 30 } },
  { name: 'keep-tag pre-upgrade + keep-last 1', policy: { keepTags: ['pre-upgrade'], keepLast: 1 } },
  { name: 'retention_days 30', policy: { retentionDays: 30 } },
  { name: 'max_backups 20 alone', policy: { maxBackups: 20 } },
  { name: 'retention_days 90 capped by max_backups 50', policy: { retentionDays: 90, maxBackups: 50 } },
  { name: 'GFS in America/New_York', policy: { keepHourly: 48, keepDaily: 30, keepWeekly: 10, keepMonthly: 24, timeZone: 'America/New_York' } },
  { name: 'GFS in Asia/Kolkata (half-hour offset)', policy: { keepDaily: 14, keepWeekly: 6, keepMonthly: 6, timeZone: 'Asia/Kolkata' } },
  { name: 'keep-last 1 (long chains and locks decide the rest)', policy: { keepLast: 1 } },
];

describe('RetentionPolicy.select over a generated two-year history', () => {
  it('has the history the cases rely on', () => {
    expect(history.length).toBeGreaterThan(1400);
    expect(history.some((b) => b.lockedUntil && b.lockedUntil > NOW)).toBe(true);
    expect(history.some((b) => b.lockedUntil && b.lockedUntil <= NOW)).toBe(true);
    expect(history.some((b) => b.tags.includes('pre-upgrade'))).toBe(true);
  });

  it.each(cases)('$name: agrees with the reference computation', ({ policy }) => {
    const expected = reference(history, policy, NOW);
    const decisions = RetentionPolicy.select(history, toPolicy(policy), NOW);
    expect(decisions).toHaveLength(history.length);
    const actual = new Map(decisions.map((d) => [d.backup.id, d.action]));
    const differences = history.filter((b) => actual.get(b.id) !== expected.get(b.id)).map((b) => `${b.id}: ${actual.get(b.id)} != ${expected.get(b.id)}`);
    expect(differences).toEqual([]);
    // Every case forgets something and keeps something, or it would prove little.
    expect(decisions.some((d) => d.action === 'forget')).toBe(true);
    expect(decisions.some((d) => d.action === 'keep')).toBe(true);
  });

  it.each(cases)('$name: no remaining backup reads an archive that goes, and every verdict has reasons', ({ policy }) => {
    const decisions = RetentionPolicy.select(history, toPolicy(policy), NOW);
    const going = new Set(decisions.filter((d) => d.action === 'forget').map((d) => d.backup.id));
    for (const d of decisions) {
      expect(d.reasons.length).toBeGreaterThan(0);
      if (d.action !== 'forget') expect(d.backup.dataBackupIds.filter((id) => going.has(id))).toEqual([]);
      if (d.action === 'deferred') expect(d.deferredUntil!.getTime()).toBeGreaterThan(NOW.getTime());
      if (d.action === 'forget') expect(d.backup.lockedUntil === undefined || d.backup.lockedUntil <= NOW).toBe(true);
    }
  });

  it('returns decisions oldest first', () => {
    const times = RetentionPolicy.select(history, { keepLast: 3 }, NOW).map((d) => Date.parse(d.backup.createdAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

/** Hand-written backups for the cases where the exact reason matters. */
const backup = (id: string, createdAt: string, extra: Partial<GeneratedBackup> = {}): GeneratedBackup => ({
  id, sourceId: 's', createdAt, level: 'full', tags: [], dataBackupIds: [id], ...extra,
});
const verdicts = (backups: GeneratedBackup[], policy: RetentionPolicy, now = NOW) =>
  Object.fromEntries(selectRetention(backups, policy, now).map((d) => [d.backup.id, [d.action, ...d.reasons]]));

describe('RetentionPolicy.select by hand', () => {
  it('keeps the newest backup of each day and names the rule and the day', () => {
    const backups = [
      backup('a', '2026-11-24T08:00:00Z'), backup('b', '2026-11-24T20:00:00Z'),
      backup('c', '2026-11-25T08:00:00Z'), backup('d', '2026-11-26T07:00:00Z'),
    ];
    expect(verdicts(backups, { keepDaily: 2, keepLast: 1 })).toEqual({
      a: ['forget', 'no rule keeps it'],
      b: ['forget', 'no rule keeps it'],
      c: ['keep', 'keep-daily 2026-11-25'],
      d: ['keep', 'keep-last 1', 'keep-daily 2026-11-26'],
    });
  });

  it('puts days in the configured time zone', () => {
    // 23:30 UTC on 1 March is 00:30 on 2 March in Berlin: one day there, two in UTC.
    const backups = [backup('x', '2026-03-01T23:30:00Z'), backup('y', '2026-03-02T08:00:00Z')];
    expect(verdicts(backups, { keepDaily: 5 })['x']).toEqual(['keep', 'keep-daily 2026-03-01']);
    expect(verdicts(backups, { keepDaily: 5, timeZone: 'Europe/Berlin' })['x']).toEqual(['forget', 'no rule keeps it']);
  });

  it('makes the repeated hour of the autumn clock change one hourly bucket, and skips the lost spring hour', () => {
    // Berlin, 25 Oct 2026: 00:30 UTC is 02:30 CEST, 01:30 UTC is 02:30 CET.
    const autumn = [backup('cest', '2026-10-25T00:30:00Z'), backup('cet', '2026-10-25T01:30:00Z'), backup('after', '2026-10-25T02:30:00Z')];
    expect(verdicts(autumn, { keepHourly: 5, timeZone: 'Europe/Berlin' })).toEqual({
      cest: ['forget', 'no rule keeps it'],
      cet: ['keep', 'keep-hourly 2026-10-25T02'],
      after: ['keep', 'keep-hourly 2026-10-25T03'],
    });
    // 29 Mar 2026: 00:30 UTC is 01:30 CET, 01:30 UTC is 03:30 CEST (02:xx does not exist).
    const spring = [backup('cet', '2026-03-29T00:30:00Z'), backup('cest', '2026-03-29T01:30:00Z')];
    expect(verdicts(spring, { keepHourly: 5, timeZone: 'Europe/Berlin' })).toEqual({
      cet: ['keep', 'keep-hourly 2026-03-29T01'],
      cest: ['keep', 'keep-hourly 2026-03-29T03'],
    });
  });

  it('uses ISO weeks across the new year', () => {
    expect(isoWeek(2027, 1, 1)).toEqual({ year: 2026, week: 53 });
    expect(isoWeek(2024, 12, 30)).toEqual({ year: 2025, week: 1 });
    const backups = [backup('thu', '2026-12-31T10:00:00Z'), backup('sun', '2027-01-03T10:00:00Z'), backup('mon', '2027-01-04T10:00:00Z')];
    expect(verdicts(backups, { keepWeekly: 2 })).toEqual({
      thu: ['forget', 'no rule keeps it'],
      sun: ['keep', 'keep-weekly 2026-W53'],
      mon: ['keep', 'keep-weekly 2027-W01'],
    });
  });

  it('counts keep-within from the newest backup of the source, retention_days from now', () => {
    const backups = [backup('old', '2026-01-01T00:00:00Z'), backup('new', '2026-01-20T00:00:00Z')];
    expect(verdicts(backups, { keepWithin: '30d' })['old']).toEqual(['keep', 'keep-within 30d']);
    expect(verdicts(backups, { retentionDays: 30 })).toEqual({
      old: ['forget', 'no rule keeps it'],
      new: ['forget', 'no rule keeps it'],
    });
  });

  it('caps what the rules keep at max_backups, newest first', () => {
    const backups = [backup('a', '2026-11-20T00:00:00Z'), backup('b', '2026-11-21T00:00:00Z'), backup('c', '2026-11-22T00:00:00Z')];
    expect(verdicts(backups, { retentionDays: 30, maxBackups: 2 })).toEqual({
      a: ['forget', 'beyond max_backups 2 (kept by retention_days 30)'],
      b: ['keep', 'retention_days 30'],
      c: ['keep', 'retention_days 30'],
    });
  });

  it('keeps the ancestors whose archives a kept backup reads, and says so', () => {
    const backups = [
      backup('full', '2026-11-20T00:00:00Z'),
      backup('inc1', '2026-11-21T00:00:00Z', { level: 'incremental', dataBackupIds: ['inc1', 'full'] }),
      backup('inc2', '2026-11-22T00:00:00Z', { level: 'incremental', dataBackupIds: ['inc2', 'full'] }),
      backup('inc3', '2026-11-23T00:00:00Z', { level: 'incremental', dataBackupIds: ['inc3', 'inc1', 'full'] }),
    ];
    expect(verdicts(backups, { keepLast: 1 })).toEqual({
      full: ['keep', 'parent of inc3', 'parent of inc1'],
      inc1: ['keep', 'parent of inc3'],
      inc2: ['forget', 'no rule keeps it'],
      inc3: ['keep', 'keep-last 1'],
    });
  });

  it('defers a locked backup until its lock ends, and keeps what the deferred one reads', () => {
    const locked = new Date('2027-01-01T00:00:00Z');
    const backups = [
      backup('full', '2026-10-01T00:00:00Z'),
      backup('locked', '2026-10-02T00:00:00Z', { level: 'incremental', dataBackupIds: ['locked', 'full'], lockedUntil: locked }),
      backup('expired', '2026-10-03T00:00:00Z', { lockedUntil: new Date('2026-11-01T00:00:00Z') }),
      backup('newest', '2026-11-25T00:00:00Z'),
    ];
    const decisions = selectRetention(backups, { keepLast: 1 }, NOW);
    expect(verdicts(backups, { keepLast: 1 })).toEqual({
      full: ['keep', 'parent of locked'],
      locked: ['deferred', 'no rule keeps it', 'deferred until 2027-01-01T00:00:00.000Z (WORM lock)'],
      expired: ['forget', 'no rule keeps it'],
      newest: ['keep', 'keep-last 1'],
    });
    expect(decisions.find((d) => d.backup.id === 'locked')!.deferredUntil).toEqual(locked);
    // Once the lock has expired the same backup simply goes, and so does what only it needed.
    const later = verdicts(backups, { keepLast: 1 }, new Date('2027-01-02T00:00:00Z'));
    expect(later['locked']![0]).toBe('forget');
    expect(later['full']![0]).toBe('forget');
  });

  it('applies a policy per source and leaves sources without one alone', () => {
    const backups = [
      backup('a1', '2026-11-20T00:00:00Z', { sourceId: 'A' }), backup('a2', '2026-11-21T00:00:00Z', { sourceId: 'A' }),
      backup('b1', '2026-11-20T00:00:00Z', { sourceId: 'B' }), backup('b2', '2026-11-21T00:00:00Z', { sourceId: 'B' }),
    ];
    const result = verdicts(backups, ((sourceId: string) => (sourceId === 'A' ? { keepLast: 1 } : undefined)) as never);
    expect(result).toEqual({
      a1: ['forget', 'no rule keeps it'],
      a2: ['keep', 'keep-last 1'],
      b1: ['keep', 'no retention policy for this source'],
      b2: ['keep', 'no retention policy for this source'],
    });
  });

  it('refuses a bad policy before deciding anything', () => {
    const one = [backup('a', '2026-11-20T00:00:00Z')];
    expect(() => selectRetention(one, {}, NOW)).toThrow(/has no rule/);
    expect(() => selectRetention(one, { keepLast: -1 }, NOW)).toThrow(UsageError);
    expect(() => selectRetention(one, { keepWithin: '30 days' }, NOW)).toThrow(/not a duration like 30d/);
    expect(() => selectRetention(one, { keepDaily: 1, timeZone: 'Mars/Olympus' }, NOW)).toThrow(/not an IANA time zone/);
    expect(() => selectRetention(one, { keepDaily: 1, keepMontly: 1 } as never, NOW)).toThrow(/keepMontly|Unrecognized/);
  });

  it('parses restic durations', () => {
    expect(parseDuration('1y6m')).toEqual({ years: 1, months: 6, weeks: 0, days: 0, hours: 0 });
    expect(parseDuration('2w3d12h')).toEqual({ years: 0, months: 0, weeks: 2, days: 3, hours: 12 });
    expect(() => parseDuration('3d3d')).toThrow(UsageError);
    expect(() => parseDuration('')).toThrow(UsageError);
  });
});
