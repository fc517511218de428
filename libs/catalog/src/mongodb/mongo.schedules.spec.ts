import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MongoScope } from '../../../../test/support/infra.js';
import { mongoDatabase } from '../../../../test/support/infra.js';
import { MongoScheduleStore } from './mongo.schedules.js';

const backup = { source: { kind: 'filesystem', location: '/k' } };
const t0 = new Date('2030-01-01T00:00:00Z');
const s = (sec: number): Date => new Date(t0.getTime() + sec * 1000);

describe('MongoScheduleStore', () => {
  let mongo: MongoScope;
  let store: MongoScheduleStore;
  beforeEach(async () => {
    mongo = await mongoDatabase();
    store = await MongoScheduleStore.open(mongo.db);
  });
  afterEach(async () => {
    await mongo.cleanup();
  });

  it('lists only due, unpaused schedules, earliest first', async () => {
    const later = await store.create({ kind: 'once', firstRunAt: s(60), backup });
    const b = await store.create({ kind: 'interval', everyMs: 5000, firstRunAt: s(-1), backup });
    const a = await store.create({ kind: 'cron', cron: '*/5 * * * * *', timezone: 'Europe/Berlin', plan: [{ cron: '* * * * 0', level: 'full' }], jitterMs: 500, catchUp: 'run-once', firstRunAt: s(-2), backup });
    await store.create({ kind: 'cron', cron: '* * * * *', firstRunAt: s(-3), paused: true, backup });
    expect((await store.due(t0)).map((x) => x.id)).toEqual([a.id, b.id]);
    expect((await store.list()).map((x) => x.id).slice(0, 3)).toEqual([later.id, b.id, a.id]);
    expect(await store.get(a.id)).toMatchObject({ kind: 'cron', cron: '*/5 * * * * *', timezone: 'Europe/Berlin', plan: [{ cron: '* * * * 0', level: 'full' }], jitterMs: 500, catchUp: 'run-once', paused: false, pending: [] });
    expect(await store.get(b.id)).toMatchObject({ anchor: s(-1).toISOString(), everyMs: 5000 });
  });

  it('claims runs once: a stale read or a leader with a lower fencing token loses', async () => {
    const sched = await store.create({ kind: 'cron', cron: '*/10 * * * * *', firstRunAt: s(0), backup });
    const claimed = await store.claim(sched, [s(0), s(10)], s(20), 5);
    expect(claimed).toMatchObject({ nextRunAt: s(20).toISOString(), pending: [s(0).toISOString(), s(10).toISOString()], version: 1 });
    expect(await store.claim(sched, [s(0)], s(10), 5)).toBeUndefined();
    expect(await store.claim(claimed!, [s(20)], s(30), 4)).toBeUndefined();
    // Still due while runs are pending, though the next run is later.
    expect((await store.due(s(1))).map((x) => x.id)).toEqual([sched.id]);

    expect(await store.fired(sched.id, s(0), 'job-0', s(1))).toBe(true);
    expect(await store.fired(sched.id, s(0), 'job-0', s(1))).toBe(false);
    expect(await store.fired(sched.id, s(10), 'job-10', s(11))).toBe(true);
    expect(await store.get(sched.id)).toMatchObject({ pending: [], fired: 2, lastJobId: 'job-10', lastRunAt: s(11).toISOString() });
    expect(await store.due(s(19))).toEqual([]);
    const next = await store.claim((await store.get(sched.id))!, [s(20)], s(30), 6);
    expect(next).toMatchObject({ pending: [s(20).toISOString()] });
  });

  it('ends a one-off schedule when its run is claimed', async () => {
    const sched = await store.create({ kind: 'once', firstRunAt: t0, backup });
    await store.claim(sched, [t0], null, 1);
    await store.fired(sched.id, t0, 'job-1', t0);
    expect(await store.get(sched.id)).toMatchObject({ fired: 1, lastJobId: 'job-1', nextRunAt: null });
    expect(await store.due(s(3600))).toEqual([]);
  });

  it('pauses, and resumes from now without the runs due meanwhile', async () => {
    const sched = await store.create({ kind: 'cron', cron: '* * * * *', firstRunAt: s(0), backup });
    expect(await store.setPaused(sched.id, true)).toMatchObject({ paused: true });
    expect(await store.due(s(600))).toEqual([]);
    expect(await store.setPaused(sched.id, false, s(600))).toMatchObject({ paused: false, nextRunAt: s(600).toISOString() });
    expect((await store.due(s(600))).map((x) => x.id)).toEqual([sched.id]);
    expect(await store.setPaused('sched-none', true)).toBeUndefined();
  });

  it('replaces a definition: id, history and claimed runs stay, the timing starts again, a claim read before loses', async () => {
    const sched = await store.create({ kind: 'cron', cron: '*/10 * * * * *', firstRunAt: s(0), backup });
    const claimed = (await store.claim(sched, [s(0)], s(10), 1))!;
    await store.fired(sched.id, s(0), 'job-1', s(1));
    const replaced = await store.replace(sched.id, { kind: 'interval', everyMs: 60_000, firstRunAt: s(30), paused: true, backup: { ...backup, level: 'full' } });
    expect(replaced).toMatchObject({ id: sched.id, kind: 'interval', everyMs: 60_000, cron: null, anchor: s(30).toISOString(), nextRunAt: s(30).toISOString(), paused: true, fired: 1, lastJobId: 'job-1', createdAt: sched.createdAt, backup: { level: 'full' } });
    expect(replaced!.version).toBeGreaterThan(claimed.version);
    expect(await store.claim(claimed, [s(10)], s(20), 1)).toBeUndefined();
    expect(await store.replace('sched-none', { kind: 'once', firstRunAt: s(5), backup })).toBeUndefined();
  });

  it('deletes a schedule; a claim on it then fails', async () => {
    const sched = await store.create({ kind: 'interval', everyMs: 1000, firstRunAt: t0, backup });
    expect(await store.delete(sched.id)).toBe(true);
    expect(await store.delete(sched.id)).toBe(false);
    expect(await store.claim(sched, [t0], s(1), 1)).toBeUndefined();
    expect(await store.get(sched.id)).toBeUndefined();
  });
});
