import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import type { ScheduleRecord } from '@tresor/contracts';
import { TestCluster } from './cluster.js';
import { until } from '../support/wait.js';

describe('tresor schedule add|list|pause|resume|run-now|remove through the gateway', () => {
  let cluster: TestCluster;
  let server: string;
  let client: TresorClient;
  let src: string;
  beforeAll(async () => {
    cluster = await TestCluster.create();
    await cluster.start('storage-gateway');
    await Promise.all([cluster.start('backup-engine'), cluster.start('scheduler', { TRESOR_SCHEDULER_TICK_MS: '200' })]);
    server = (await cluster.start('gateway')).http;
    client = new TresorClient({ url: server, token: cluster.token! });
    src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'key.pem'), 'key\n', { mode: 0o600 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const cli = async (...args: string[]): Promise<string> => {
    const r = await cluster.cli(['--server', server, ...args]);
    if (r.code !== 0) throw new Error(`tresor ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };

  it('adds a cron schedule with a plan that fires at the planned levels, pauses, resumes, runs now and removes it', async () => {
    const added = JSON.parse(await cli('--json', 'schedule', 'add', src, '--cron', '*/2 * * * * *', '--timezone', 'Europe/Berlin', '--plan', '* * * * * *=full', '--tag', 'cron', '--catch-up', 'run-once', '--jitter', '500')) as ScheduleRecord;
    expect(added).toMatchObject({ kind: 'cron', cron: '*/2 * * * * *', timezone: 'Europe/Berlin', plan: [{ cron: '* * * * * *', level: 'full' }], jitterMs: 500, catchUp: 'run-once', paused: false });
    expect(await cli('schedule', 'list')).toContain(added.id);

    const fired = await until('two runs', 60_000, async () => {
      const s = await client.schedules.get(added.id);
      return s.fired >= 2 ? s : undefined;
    });
    const jobs = (await client.jobs.list()).filter((j) => j.idempotencyKey?.startsWith(`${added.id}@`));
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    // Every run is named by its due time (even seconds) and backs up at the plan's level.
    expect(jobs.every((j) => /@\d{4}-\d\d-\d\dT\d\d:\d\d:\d[02468]\.000Z$/.test(j.idempotencyKey!) && j.params.level === 'full')).toBe(true);
    expect(jobs.map((j) => j.id)).toContain(fired.lastJobId);

    expect(await cli('schedule', 'pause', added.id)).toContain('paused');
    const paused = await client.schedules.get(added.id);
    expect(paused.paused).toBe(true);
    // Wait out a tick in flight, then no run fires while paused.
    await new Promise((r) => setTimeout(r, 1000));
    const before = (await client.schedules.get(added.id)).fired;
    await new Promise((r) => setTimeout(r, 5000));
    expect((await client.schedules.get(added.id)).fired).toBe(before);

    const ran = JSON.parse(await cli('--json', 'schedule', 'run-now', added.id)) as { id: string; params: { level: string } };
    expect(ran.params.level).toBe('full');
    expect((await client.jobs.wait(ran.id)).state).toBe('completed');

    expect(await cli('schedule', 'resume', added.id)).toContain('resumed');
    await until('a run after resuming', 60_000, async () => ((await client.schedules.get(added.id)).fired > before ? true : undefined));

    expect(await cli('schedule', 'remove', added.id)).toContain('removed');
    expect(await cli('schedule', 'list')).not.toContain(added.id);
  }, 180_000);

  it('refuses bad schedules with the field named, and schedule commands without --server', async () => {
    const bad = await cluster.cli(['--server', server, 'schedule', 'add', src, '--cron', '* * *']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/3 fields/);
    const tz = await cluster.cli(['--server', server, 'schedule', 'add', src, '--cron', '0 2 * * *', '--timezone', 'Mars/Base']);
    expect(tz.stderr).toMatch(/Mars\/Base/);
    const two = await cluster.cli(['--server', server, 'schedule', 'add', src, '--cron', '0 2 * * *', '--every', '1h']);
    expect(two.stderr).toMatch(/exactly one of --cron/);
    const local = await cluster.cli(['schedule', 'list']);
    expect(local.code).not.toBe(0);
    expect(local.stderr).toMatch(/--server/);
  });
});
