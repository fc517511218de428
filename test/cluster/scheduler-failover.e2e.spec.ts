import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { MongoJobStore, MongoScheduleStore } from '@tresor/catalog';
import { CronTimetable } from '@tresor/scheduling';
import { redisScope } from '../support/infra.js';
import type { RedisScope } from '../support/infra.js';
import { TestCluster } from './cluster.js';
import type { RunningService } from './cluster.js';
import { until } from '../support/wait.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Lease settings of the test: a dead or stalled leader is replaced within TTL + RENEW (+ one tick).
const TTL_MS = 3000;
const RENEW_MS = 500;
const TICK_MS = 200;
const CRON = '*/2 * * * * *';

describe('three scheduler replicas fire each due run exactly once across leader failures', () => {
  let cluster: TestCluster;
  let redis: RedisScope;
  let r: Redis;
  const replicas = new Map<string, RunningService>();
  beforeAll(async () => {
    cluster = await TestCluster.create();
    redis = await redisScope();
    r = await redis.client();
    await Promise.all(
      ['sched-a', 'sched-b', 'sched-c'].map(async (name) => {
        const env = {
          TRESOR_INSTANCE: name,
          TRESOR_REDIS_URL: redis.url,
          TRESOR_REDIS_PREFIX: redis.keyPrefix,
          TRESOR_SCHEDULER_TICK_MS: String(TICK_MS),
          TRESOR_SCHEDULER_LEASE_TTL_MS: String(TTL_MS),
          TRESOR_SCHEDULER_LEASE_RENEW_MS: String(RENEW_MS),
          TRESOR_SCHEDULER_GRACE_MS: '30000',
        };
        replicas.set(name, await cluster.start('scheduler', env));
      }),
    );
  }, 120_000);
  afterAll(async () => {
    for (const s of replicas.values()) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGCONT');
    await cluster?.stop();
    await redis?.cleanup();
  });

  const leader = async (): Promise<string | undefined> => (await r.get('lease:scheduler'))?.split('#')[0];
  /** Waits for a leader other than `old`; returns it and how long that took. */
  const takeover = async (old: string | undefined, since: number): Promise<{ name: string; ms: number }> => {
    const name = await until(`a leader other than ${old}`, 60_000, async () => {
      const l = await leader();
      return l && l !== old ? l : undefined;
    });
    return { name, ms: Date.now() - since };
  };

  it('kill -9 of the leader, then SIGSTOP of the next: no run is lost or doubled', async () => {
    const db = cluster.mongo.db;
    const schedules = await MongoScheduleStore.open(db);
    const jobs = await MongoJobStore.open(db);
    const first = await takeover(undefined, Date.now());
    const created = new Date();
    const schedule = await schedules.create({ kind: 'cron', cron: CRON, firstRunAt: created, backup: { source: { kind: 'filesystem', location: '/nowhere' }, tags: ['failover'] } });

    await sleep(15_000);
    replicas.get(first.name)!.child.kill('SIGKILL');
    const afterKill = await takeover(first.name, Date.now());

    await sleep(15_000);
    const stalled = replicas.get(afterKill.name)!.child;
    stalled.kill('SIGSTOP');
    const afterStop = await takeover(afterKill.name, Date.now());
    // Resume the stalled leader only after its successor fired runs: it must not fire them again.
    await sleep(5_000);
    stalled.kill('SIGCONT');

    await sleep(15_000);
    await schedules.setPaused(schedule.id, true);
    await until('no pending runs', 30_000, async () => ((await schedules.get(schedule.id))!.pending.length === 0 ? true : undefined));
    await sleep(2_000);

    const fired = (await jobs.list({ kind: 'backup', limit: 10_000 })).filter((j) => j.idempotencyKey?.startsWith(`${schedule.id}@`));
    const dues = fired.map((j) => j.idempotencyKey!.slice(schedule.id.length + 1)).sort();
    // Exactly once: no due time twice ...
    expect(new Set(dues).size).toBe(dues.length);
    expect((await schedules.get(schedule.id))!.fired).toBe(dues.length);
    // ... and none missing: every due time from the first after creation to the last fired one.
    const cron = new CronTimetable(CRON);
    const expected: string[] = [];
    for (let t = cron.atOrAfter(created)!; t.toISOString() <= dues.at(-1)!; t = cron.atOrAfter(new Date(t.getTime() + 1))!) expected.push(t.toISOString());
    expect(dues).toEqual(expected);
    expect(dues.length).toBeGreaterThanOrEqual(20);
    expect(fired.every((j) => j.params.level === 'incremental' && (j.params.tags as string[]).includes('failover'))).toBe(true);

    const late = fired.map((j) => Date.parse(j.createdAt) - Date.parse(j.idempotencyKey!.slice(schedule.id.length + 1)));
    console.log(
      `scheduler failover: ${dues.length} runs; takeover after kill -9 ${afterKill.ms} ms, after SIGSTOP ${afterStop.ms} ms ` +
        `(bound ttl+renew = ${TTL_MS + RENEW_MS} ms); latest run fired ${Math.max(...late)} ms after its due time`,
    );
    expect(new Set([first.name, afterKill.name, afterStop.name]).size).toBe(3);
  }, 180_000);
});
