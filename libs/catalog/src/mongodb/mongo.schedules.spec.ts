import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MongoScope } from '../../../../test/support/infra.js';
import { mongoDatabase } from '../../../../test/support/infra.js';
import { MongoScheduleStore, scheduleFiringKey } from './mongo.schedules.js';

const backup = { source: { kind: 'filesystem', location: '/k' } };

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

  it('lists only due schedules, earliest first', async () => {
    const t0 = new Date('2030-01-01T00:00:00Z');
    const later = await store.create({ kind: 'once', firstRunAt: new Date(t0.getTime() + 60_000), backup });
    const b = await store.create({ kind: 'interval', everyMs: 5000, firstRunAt: new Date(t0.getTime() - 1000), backup });
    const a = await store.create({ kind: 'once', firstRunAt: new Date(t0.getTime() - 2000), backup });
    expect((await store.due(t0)).map((s) => s.id)).toEqual([a.id, b.id]);
    expect((await store.list()).map((s) => s.id)).toEqual([later.id, b.id, a.id]);
  });

  it('ends a one-off schedule when it fired', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const s = await store.create({ kind: 'once', firstRunAt: now, backup });
    expect(await store.markFired(s, 'job-1', now)).toBe(true);
    expect(await store.get(s.id)).toMatchObject({ fired: 1, lastJobId: 'job-1', nextRunAt: null, lastRunAt: now.toISOString() });
    expect(await store.due(new Date(now.getTime() + 3600_000))).toEqual([]);
  });

  it('advances an interval by whole periods, skipping runs missed while no scheduler ran', async () => {
    const first = new Date('2030-01-01T00:00:00Z');
    const s = await store.create({ kind: 'interval', everyMs: 10_000, firstRunAt: first, backup });
    expect(await store.markFired(s, 'job-1', new Date(first.getTime() + 500))).toBe(true);
    const once = (await store.get(s.id))!;
    expect(once.nextRunAt).toBe(new Date(first.getTime() + 10_000).toISOString());
    expect(await store.markFired(once, 'job-2', new Date(first.getTime() + 35_000))).toBe(true);
    expect((await store.get(s.id))!).toMatchObject({ fired: 2, lastJobId: 'job-2', nextRunAt: new Date(first.getTime() + 40_000).toISOString() });
  });

  it('refuses to record a firing from a stale read, or for a deleted schedule', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const s = await store.create({ kind: 'interval', everyMs: 1000, firstRunAt: now, backup });
    expect(await store.markFired(s, 'job-1', now)).toBe(true);
    expect(await store.markFired(s, 'job-1b', now)).toBe(false);
    expect(await store.delete(s.id)).toBe(true);
    expect(await store.delete(s.id)).toBe(false);
    expect(await store.markFired((await store.list())[0] ?? { ...s, version: 1 }, 'job-2', now)).toBe(false);
    expect(await store.get(s.id)).toBeUndefined();
  });

  it('names each firing with its own idempotency key', () => {
    expect(scheduleFiringKey('sched-1', 3)).toBe('schedule:sched-1:3');
  });
});
