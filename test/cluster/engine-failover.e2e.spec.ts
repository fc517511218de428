import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import type { JobRecord } from '@tresor/contracts';
import { TestCluster } from './cluster.js';
import type { RunningService } from './cluster.js';
import { hashTree } from '../support/tree.js';
import { until } from '../support/wait.js';

async function files(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

const INSTANCES = ['engine-a', 'engine-b'];

describe('two backup-engine replicas, one killed mid-upload', () => {
  let cluster: TestCluster;
  let client: TresorClient;
  const engines: RunningService[] = [];
  beforeAll(async () => {
    cluster = await TestCluster.create();
    // Redelivery of a dead engine's job after 5 s; an aborted upload is dropped after 2 s idle.
    const jobs = { TRESOR_JOB_ACK_WAIT_MS: '5000' };
    await cluster.start('storage-gateway', { ...jobs, TRESOR_UPLOAD_IDLE_MS: '2000' });
    for (const name of INSTANCES) {
      // 40 ms per 64 KiB: the 3 MiB archive takes ~2 s to upload, long enough to kill mid-way.
      engines.push(await cluster.start('backup-engine', { ...jobs, TRESOR_INSTANCE: name, TRESOR_TEST_UPLOAD_DELAY_MS: '40' }));
    }
    await cluster.start('recovery', jobs);
    client = new TresorClient({ url: (await cluster.start('gateway', jobs)).http });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('ends with exactly one completed backup, byte-identical on restore, and no orphaned objects', async () => {
    const src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 48; i++) await writeFile(join(src, `key-${i}.bin`), randomBytes(64 * 1024), { mode: 0o600 });
    const objects = join(cluster.repo, 'objects');

    const job = await client.backups.create({ source: { kind: 'filesystem', location: src } });
    // The replica that claimed the job, once its archive upload is under way.
    const running = await until('the job to be uploading', 30_000, async () => {
      const j = await client.jobs.get(job.id);
      return j.state === 'uploading' ? j : undefined;
    });
    const victim = engines[INSTANCES.indexOf(running.worker ?? '')];
    expect(victim, `engine ${running.worker}`).toBeDefined();
    // Bytes have reached the storage-gateway's staging area: the upload is in flight.
    await until('staged archive bytes', 30_000, async () => {
      for (const f of await files(join(objects, '.tmp'))) {
        if ((await stat(join(objects, '.tmp', f)).catch(() => undefined))?.size) return true;
      }
      return undefined;
    });
    victim!.child.kill('SIGKILL');

    const done = await until<JobRecord>('the job to finish on the other replica', 90_000, async () => {
      const j = await client.jobs.get(job.id);
      return j.state === 'completed' || j.state === 'failed' ? j : undefined;
    });
    expect(done.state).toBe('completed');
    expect(done.attempts).toBe(2);
    expect(done.worker).not.toBe(running.worker);
    const backupId = (done.result as { backupId: string }).backupId;

    const backups = await client.backups.list();
    expect(backups.map((b) => b.id)).toEqual([backupId]);

    // The dead replica's partial archive was aborted: storage holds only the completed backup's objects.
    await until('the aborted upload to be dropped', 30_000, async () => ((await files(join(objects, '.tmp'))).length === 0 ? true : undefined));
    expect(await files(join(objects, 'archives'))).toEqual([`${backupId}.tra`]);
    expect(await files(join(objects, 'manifests'))).toEqual([`${backupId}.json`]);

    const target = join(cluster.dir, 'restored');
    const restore = await client.backups.restore({ backup: backupId, target, include: [], exclude: [], dryRun: false, overwrite: false });
    const restored = await until<JobRecord>('the restore', 60_000, async () => {
      const j = await client.jobs.get(restore.id);
      return j.state === 'completed' || j.state === 'failed' ? j : undefined;
    });
    expect(restored.error).toBeNull();
    expect(await hashTree(target)).toEqual(await hashTree(src));
  });
});
