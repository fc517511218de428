import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MongoJobStore, MongoScheduleStore } from '@tresor/catalog';
import type { Bus } from '@tresor/messaging';
import { createLogger } from '@tresor/messaging';
import type { MongoScope } from '../../../test/support/infra.js';
import { mongoDatabase } from '../../../test/support/infra.js';
import { fireDue } from './fire.js';
import type { FireDeps } from './fire.js';

const t0 = new Date('2030-01-06T00:00:00Z'); // a Sunday
const s = (sec: number): Date => new Date(t0.getTime() + sec * 1000);
const backup = { source: { kind: 'filesystem', location: '/k' }, level: 'incremental' };

describe('fireDue (real MongoDB-wire server; the bus only records)', () => {
  let mongo: MongoScope;
  let schedules: MongoScheduleStore;
  let jobs: MongoJobStore;
  let published: string[];
  let deps: (token: number | null) => FireDeps;
  beforeEach(async () => {
    mongo = await mongoDatabase();
    schedules = await MongoScheduleStore.open(mongo.db);
    jobs = await MongoJobStore.open(mongo.db);
    published = [];
    const bus = { publishJob: async (_def: unknown, job: { jobId: string }) => void published.push(job.jobId), publishEvent: async () => undefined } as unknown as Bus;
    const logger = createLogger('scheduler-test', 'test');
    deps = (token) => ({ bus, jobs, schedules, logger, graceMs: 30_000, leaderToken: () => token });
  });
  afterEach(async () => {
    await mongo.cleanup();
  });

  const keys = async (scheduleId: string): Promise<string[]> =>
    (await jobs.list({ kind: 'backup', limit: 1000 })).map((j) => j.idempotencyKey ?? '').filter((k) => k.startsWith(`${scheduleId}@`)).sort();

  it('submits each due run as one job named by its due time, at the level its plan gives', async () => {
    const sched = await schedules.create({ kind: 'cron', cron: '*/10 * * * * *', plan: [{ cron: '0 * * * * *', level: 'full' }], firstRunAt: s(0), backup });
    expect(await fireDue(deps(1), s(25))).toBe(3);
    expect(await fireDue(deps(1), s(25))).toBe(0);
    expect(await keys(sched.id)).toEqual([0, 10, 20].map((x) => `${sched.id}@${s(x).toISOString()}`));
    const levels = (await jobs.list({ kind: 'backup' })).sort((a, b) => a.idempotencyKey!.localeCompare(b.idempotencyKey!)).map((j) => j.params.level);
    expect(levels).toEqual(['full', 'incremental', 'incremental']);
    expect(await schedules.get(sched.id)).toMatchObject({ fired: 3, pending: [], nextRunAt: s(30).toISOString() });
  });

  it('submits runs a dead leader claimed but never submitted', async () => {
    const sched = await schedules.create({ kind: 'cron', cron: '*/10 * * * * *', firstRunAt: s(0), backup });
    // The old leader (token 1) claimed two runs and died before submitting them.
    await schedules.claim(sched, [s(0), s(10)], s(20), 1);
    expect(await fireDue(deps(2), s(15))).toBe(2);
    expect(await keys(sched.id)).toEqual([0, 10].map((x) => `${sched.id}@${s(x).toISOString()}`));
    expect(await schedules.get(sched.id)).toMatchObject({ fired: 2, pending: [] });
  });

  it('keeps a leader with an older token from claiming after its successor did', async () => {
    const sched = await schedules.create({ kind: 'cron', cron: '*/10 * * * * *', firstRunAt: s(0), backup });
    expect(await fireDue(deps(5), s(5))).toBe(1);
    expect(await fireDue(deps(4), s(15))).toBe(0);
    expect(await fireDue(deps(null), s(15))).toBe(0);
    expect(await keys(sched.id)).toEqual([`${sched.id}@${s(0).toISOString()}`]);
  });

  it('makes one job per run when two leaders overlap', async () => {
    const sched = await schedules.create({ kind: 'interval', everyMs: 1000, firstRunAt: s(0), backup });
    await Promise.all([fireDue(deps(1), s(9.5)), fireDue(deps(2), s(9.5)), fireDue(deps(3), s(9.5))]);
    await fireDue(deps(3), s(9.5));
    const k = await keys(sched.id);
    expect(k).toEqual(Array.from({ length: 10 }, (_, i) => `${sched.id}@${s(i).toISOString()}`));
    // Overlapping leaders may queue a job more than once: the job id is the JetStream message id,
    // so the queue keeps one message per job; what matters is one job per run.
    const ids = (await jobs.list({ kind: 'backup', limit: 1000 })).filter((j) => j.idempotencyKey?.startsWith(`${sched.id}@`)).map((j) => j.id);
    expect(new Set(published)).toEqual(new Set(ids));
  });
});
