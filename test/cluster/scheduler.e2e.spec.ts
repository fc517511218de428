import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import type { JobRecord } from '@tresor/contracts';
import { UsageError } from '@tresor/errors';
import { TestCluster } from './cluster.js';
import { until } from '../support/wait.js';

describe('scheduler (its own process) fires schedules as backup jobs', () => {
  let cluster: TestCluster;
  let client: TresorClient;
  let src: string;
  beforeAll(async () => {
    cluster = await TestCluster.create();
    await cluster.start('storage-gateway');
    await Promise.all([cluster.start('backup-engine'), cluster.start('scheduler', { TRESOR_SCHEDULER_TICK_MS: '200' })]);
    client = new TresorClient({ url: (await cluster.start('gateway')).http });
    src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 3; i++) await writeFile(join(src, `key-${i}.pem`), `key ${i}\n`, { mode: 0o600 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const finished = (id: string): Promise<JobRecord> =>
    until(`job ${id} to finish`, 60_000, async () => {
      const j = await client.jobs.get(id);
      return j.state === 'completed' || j.state === 'failed' ? j : undefined;
    });

  it('fires an interval schedule repeatedly until it is deleted', async () => {
    const schedule = await client.schedules.create({ kind: 'interval', everyMs: 1000, backup: { source: { kind: 'filesystem', location: src }, tags: ['scheduled'] } });
    expect(schedule).toMatchObject({ kind: 'interval', everyMs: 1000, fired: 0 });
    expect((await client.schedules.list()).map((s) => s.id)).toEqual([schedule.id]);

    const fired = await until('three firings', 60_000, async () => {
      const s = await client.schedules.get(schedule.id);
      return s.fired >= 3 ? s : undefined;
    });
    await client.schedules.delete(schedule.id);
    expect(await client.schedules.list()).toEqual([]);
    await expect(client.schedules.get(schedule.id)).rejects.toThrow(/not found/);

    // Each firing went through the backup job path: distinct jobs, each completed, one backup each.
    const jobs = (await client.jobs.list()).filter((j) => j.kind === 'backup' && j.idempotencyKey?.startsWith(`${schedule.id}@`));
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(jobs.map((j) => j.idempotencyKey)).size).toBe(jobs.length);
    expect(jobs.map((j) => j.id)).toContain(fired.lastJobId);
    const done = await Promise.all(jobs.map((j) => finished(j.id)));
    expect(done.map((j) => j.state)).toEqual(done.map(() => 'completed'));
    const backupIds = new Set(done.map((j) => (j.result as { backupId: string }).backupId));
    const listed = await client.backups.list();
    expect(listed.filter((b) => backupIds.has(b.id))).toHaveLength(jobs.length);
    expect(listed.every((b) => b.tags.includes('scheduled'))).toBe(true);
  });

  it('fires a one-off schedule exactly once', async () => {
    const schedule = await client.schedules.create({ kind: 'once', at: new Date().toISOString(), backup: { source: { kind: 'filesystem', location: src } } });
    const fired = await until('the one-off firing', 30_000, async () => {
      const s = await client.schedules.get(schedule.id);
      return s.fired === 1 ? s : undefined;
    });
    expect(fired.nextRunAt).toBeNull();
    expect((await finished(fired.lastJobId!)).state).toBe('completed');
    await client.schedules.delete(schedule.id);
  });

  it('rejects invalid schedules', async () => {
    await expect(client.schedules.create({ kind: 'interval', backup: { source: { kind: 'filesystem', location: src } } })).rejects.toThrow(UsageError);
    await expect(client.schedules.create({ kind: 'once', everyMs: 5000, at: new Date().toISOString(), backup: { source: { kind: 'filesystem', location: src } } })).rejects.toThrow(UsageError);
    await expect(client.schedules.create({ kind: 'interval', everyMs: 10, backup: { source: { kind: 'filesystem', location: src } } })).rejects.toThrow(/everyMs/);
  });
});
