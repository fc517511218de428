import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import type { JobRecord } from '@tresor/contracts';
import { TestCluster } from '../cluster/cluster.js';
import { startOwnFerretDb, startOwnNatsServer } from '../support/infra.js';
import type { OwnFerretDb, OwnNatsServer } from '../support/infra.js';
import { hashTree } from '../support/tree.js';
import { until as poll } from '../support/wait.js';

/** Waits through a server restart: a probe that throws means "not yet". */
const until = <T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> =>
  poll(what, ms, probe, { tolerateErrors: true });

/**
 * The MongoDB-wire server (catalog, jobs) and NATS restarted while a backup is uploading (not only
 * while idle, which test/cluster/reconnect.e2e.spec.ts covers). The job ends completed or failed
 * with a reason (never stuck), a completed one restores byte for byte, no service needs a restart
 * of its own, and the next backup completes.
 */
describe('dependencies restarted in the middle of a backup', () => {
  let nats: OwnNatsServer | undefined;
  let mongo: OwnFerretDb | undefined;
  let cluster: TestCluster | undefined;
  let client: TresorClient;
  let src: string;

  beforeAll(async () => {
    nats = await startOwnNatsServer();
    mongo = await startOwnFerretDb();
    cluster = await TestCluster.create({ natsUrl: nats.url, mongoUrl: mongo.url });
    // 40 ms per 64 KiB: a 3 MiB archive uploads for a couple of seconds, long enough to restart something.
    const slow = { TRESOR_TEST_UPLOAD_DELAY_MS: '40' };
    await cluster.start('storage-gateway');
    await cluster.start('backup-engine', slow);
    await cluster.start('recovery');
    client = new TresorClient({ url: (await cluster.start('gateway')).http });
    src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 48; i++) await writeFile(join(src, `key-${i}.bin`), randomBytes(64 * 1024), { mode: 0o600 });
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
    await nats?.stop();
    await mongo?.stop();
  });

  const finished = (id: string) =>
    until<JobRecord>('the job to finish', 240_000, async () => {
      const j = await client.jobs.get(id);
      return j.state === 'completed' || j.state === 'failed' ? j : undefined;
    });
  const startBackup = async () => {
    const idempotencyKey = randomUUID();
    const job = await until('the gateway to accept a backup', 60_000, () =>
      client.backups.create({ source: { kind: 'filesystem', location: src } }, { idempotencyKey }),
    );
    await until('the job to be uploading', 60_000, async () => ((await client.jobs.get(job.id)).state === 'uploading' ? true : undefined));
    return job;
  };
  const restoresExactly = async (backupId: string) => {
    const target = join(cluster!.dir, `restored-${backupId}`);
    const restore = await until('the gateway to accept a restore', 60_000, () =>
      client.backups.restore({ backup: backupId, target, include: [], exclude: [], dryRun: false, overwrite: false }),
    );
    const done = await finished(restore.id);
    expect(done.error).toBeNull();
    expect(await hashTree(target)).toEqual(await hashTree(src));
  };
  const outcome = async (job: JobRecord, fault: string) => {
    const done = await finished(job.id);
    console.log(`${fault}: job ${done.state} after ${done.attempts} attempt(s)${done.error ? `: ${JSON.stringify(done.error)}` : ''}`);
    if (done.state === 'failed') expect(done.error, 'a failed job says why').not.toBeNull();
    else await restoresExactly((done.result as { backupId: string }).backupId);
    for (const s of cluster!.services) expect(s.child.exitCode, `${s.name} still running`).toBeNull();
    // Work goes on without restarting any service.
    const next = await finished((await until('a new backup', 60_000, () => client.backups.create({ source: { kind: 'filesystem', location: src } }, { idempotencyKey: randomUUID() }))).id);
    expect(next.error).toBeNull();
    expect(next.state).toBe('completed');
    return done;
  };

  it('MongoDB-wire server restarted mid-upload', { timeout: 600_000 }, async () => {
    const job = await startBackup();
    await mongo!.restart();
    await outcome(job, 'MongoDB restart mid-upload');
  });

  it('NATS restarted mid-upload', { timeout: 600_000 }, async () => {
    const job = await startBackup();
    await nats!.restart();
    await outcome(job, 'NATS restart mid-upload');
    // Every completed backup's objects, and nothing else, in storage.
    const objects = join(cluster!.repo, 'objects');
    const backups = await client.backups.list();
    await until('aborted uploads to be dropped', 60_000, async () => ((await readdir(join(objects, '.tmp')).catch(() => [])).length === 0 ? true : undefined));
    const ids = new Set(backups.map((b) => b.id));
    const archives = await readdir(join(objects, 'archives'));
    const manifests = await readdir(join(objects, 'manifests'));
    const orphans = [...archives, ...manifests].filter((f) => !ids.has(f.replace(/\.(tra|json)$/, '')));
    console.log(`NATS restart mid-upload: ${backups.length} backups catalogued; objects of no backup: ${JSON.stringify(orphans)}`);
    // Every catalogued backup has its objects; no manifest (a committed backup) is missing from the catalog.
    for (const id of ids) expect(archives).toContain(`${id}.tra`);
    expect(manifests.sort()).toEqual([...ids].map((id) => `${id}.json`).sort());
    // Known gap (docs/reliability.md, open 5): the interrupted attempt's archive can stay behind as an orphan.
    expect(orphans.every((f) => f.endsWith('.tra'))).toBe(true);
  });
});
