import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import type { JobRecord } from '@tresor/contracts';
import { TestCluster } from '../cluster/cluster.js';
import { startOwnFerretDb, startOwnNatsServer } from '../support/infra.js';
import type { OwnFerretDb, OwnNatsServer } from '../support/infra.js';
import { hashTree } from '../support/tree.js';
import { until as poll } from '../support/wait.js';
import { fsckCluster, randomTree, repairCluster } from './cluster-faults.js';

/**
 * How long a job may take to end here. An attempt whose reply was lost in a NATS restart ends only
 * when the engine's own bounds run out: a chunk reply is waited for 30 s, a commit is asked again
 * every 10 s for up to 120 s (RemoteObjectStore), then the abort and the discard of the attempt's
 * objects wait up to 30 s a try before the next attempt (up to 3); on a machine at a load of 40 (the
 * full suite on 2 cores) the 24 MiB backups and restores take minutes too. 240 s was less than that; a job still not ended
 * after this is stuck, and the wait's error says where it stood.
 */
const JOB_END_MS = 600_000;
/** Per test: a backup or restore, its retry or the next backup, each within JOB_END_MS. */
const TEST_MS = 4 * JOB_END_MS;

/** Waits through a server restart: a probe that throws means "not yet". */
const until = <T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> =>
  poll(what, ms, probe, { tolerateErrors: true });

/**
 * The MongoDB-wire server (catalog, jobs) and NATS restarted while a backup is uploading or a
 * restore is writing (not only while idle, which test/cluster/reconnect.e2e.spec.ts covers). The
 * job ends completed or failed with a reason (never stuck; a backup under a NATS restart completes,
 * with exactly one backup), a completed backup restores byte for
 * byte, a restore is exact or leaves the target as it was and works when retried, no service
 * needs a restart of its own, the next backup completes, and after the NATS restart mid-upload the
 * cluster repair leaves nothing for fsck to find. NATS and FerretDB are private ones
 * (the shared servers other tests use are never restarted).
 */
describe('dependencies restarted in the middle of a backup or a restore', () => {
  let nats: OwnNatsServer | undefined;
  let mongo: OwnFerretDb | undefined;
  let cluster: TestCluster | undefined;
  let client: TresorClient;
  let gateway: string;
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
    // Runs the cluster's fsck and repair (POST /v1/fsck).
    await cluster.start('monitoring');
    gateway = (await cluster.start('gateway')).http;
    client = new TresorClient({ url: gateway });
    src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 48; i++) await writeFile(join(src, `key-${i}.bin`), randomBytes(64 * 1024), { mode: 0o600 });
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
    await nats?.stop();
    await mongo?.stop();
  });

  /**
   * Waits for a job to end. A job that does not is a finding, not slowness (every wait in its path
   * is bounded): the error says where it stood and what the engine and storage-gateway last logged.
   */
  const finished = async (id: string) => {
    let last: JobRecord | undefined;
    try {
      return await until<JobRecord>(`job ${id} to finish`, JOB_END_MS, async () => {
        last = await client.jobs.get(id);
        return last.state === 'completed' || last.state === 'failed' ? last : undefined;
      });
    } catch (err) {
      const tail = (name: string) => cluster!.services.filter((s) => s.name === name).flatMap((s) => s.logs.slice(-15)).join('\n');
      throw new Error(`${(err as Error).message}; it is ${last?.state ?? 'unknown'} after ${last?.attempts ?? '?'} attempt(s) on ${last?.worker ?? '?'}\nbackup-engine:\n${tail('backup-engine')}\nstorage-gateway:\n${tail('storage-gateway')}`, { cause: err });
    }
  };
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
    await workGoesOn();
    return done;
  };
  /** Every service is still its first process, and a new backup completes. */
  const workGoesOn = async () => {
    for (const s of cluster!.services) expect(s.child.exitCode, `${s.name} still running`).toBeNull();
    const next = await finished((await until('a new backup', 60_000, () => client.backups.create({ source: { kind: 'filesystem', location: src } }, { idempotencyKey: randomUUID() }))).id);
    expect(next.error).toBeNull();
    expect(next.state).toBe('completed');
  };

  // 24 MiB, backed up once: a restore of it writes long enough to restart something under it.
  let big: { dir: string; backupId: string } | undefined;
  const bigBackup = async () => {
    if (big) return big;
    const dir = await randomTree(join(cluster!.dir, 'big'), 96, 256 * 1024);
    const job = await client.backups.create({ source: { kind: 'filesystem', location: dir } }, { idempotencyKey: randomUUID() });
    const done = await finished(job.id);
    expect(done.state).toBe('completed');
    return (big = { dir, backupId: (done.result as { backupId: string }).backupId });
  };
  const stagingDirs = async (target: string) => (await readdir(cluster!.dir)).filter((d) => d.startsWith(`.${basename(target)}.tresor-staging-`));
  const restoreTo = (backupId: string, target: string) =>
    until('the gateway to accept a restore', 60_000, () =>
      client.backups.restore({ backup: backupId, target, include: [], exclude: [], dryRun: false, overwrite: false }, { idempotencyKey: randomUUID() }),
    );

  /**
   * Restarts a dependency once the restore has written bytes into its staging directory. The
   * restore then either completed byte for byte or failed with a reason, leaving no target (there
   * was none) and no staging directory; a failed one is retried and must then be exact.
   */
  const restoreUnder = async (fault: string, restart: () => Promise<void>) => {
    const { dir, backupId } = await bigBackup();
    const target = join(cluster!.dir, `restored-${fault.replace(/\W+/g, '-')}`);
    const job = await restoreTo(backupId, target);
    await poll('restored bytes in the staging directory', 120_000, async () => {
      for (const d of await stagingDirs(target))
        for (const f of await readdir(join(cluster!.dir, d)).catch(() => []))
          if ((await stat(join(cluster!.dir, d, f)).catch(() => undefined))?.size) return true;
      return undefined;
    }, { intervalMs: 10, tolerateErrors: true });
    await restart();
    const done = await finished(job.id);
    console.log(`${fault}: restore ${done.state} after ${done.attempts} attempt(s)${done.error ? `: ${JSON.stringify(done.error)}` : ''}`);
    expect(await stagingDirs(target), 'no staging directory left').toEqual([]);
    if (done.state === 'failed') {
      expect(done.error, 'a failed restore says why').not.toBeNull();
      expect(await stat(target).catch(() => undefined), 'the target is as it was: absent').toBeUndefined();
      const retried = await finished((await restoreTo(backupId, target)).id);
      console.log(`${fault}: the retried restore ${retried.state}`);
      expect(retried.error).toBeNull();
    }
    expect(await hashTree(target)).toEqual(await hashTree(dir));
    await workGoesOn();
  };

  it('MongoDB-wire server restarted mid-upload', { timeout: TEST_MS }, async () => {
    const job = await startBackup();
    await mongo!.restart();
    await outcome(job, 'MongoDB restart mid-upload');
  });

  it('NATS restarted mid-upload', { timeout: TEST_MS }, async () => {
    const before = new Set((await client.backups.list()).map((b) => b.id));
    const job = await startBackup();
    await nats!.restart();
    const done = await outcome(job, 'NATS restart mid-upload');
    // A request or reply lost in the restart is a transient failure: the engine asks whether the
    // commit landed and retries the attempt if not, so the job completes (ADR 34).
    expect(done.state, `the job completes: ${JSON.stringify(done.error)}`).toBe('completed');
    // Exactly one backup for it: the backups new since the fault are its own and the next backup's.
    const added = (await client.backups.list()).map((b) => b.id).filter((id) => !before.has(id));
    console.log(`NATS restart mid-upload: ${added.length} backups added for 2 completed jobs`);
    const retries = cluster!.services.filter((s) => s.name === 'backup-engine').flatMap((s) => s.logs).filter((l) => /will retry|after its commit landed|asking the storage-gateway again/.test(l));
    console.log(`NATS restart mid-upload: the engine's retries:\n${retries.map((l) => l.slice(0, 600)).join('\n')}`);
    expect(added).toContain((done.result as { backupId: string }).backupId);
    expect(added, 'no second backup of one job').toHaveLength(2);
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
    // The engine deletes what its failed attempt stored (fix 9, fix 14); the cluster repair removes
    // whatever that cleanup could not (the bus down), and then fsck finds nothing at all.
    expect(orphans.every((f) => f.endsWith('.tra'))).toBe(true);
    const repaired = await repairCluster(cluster!, gateway);
    console.log(`NATS restart mid-upload: the cluster repair found ${repaired.found} orphan(s), removed ${repaired.removed}`);
    expect((await fsckCluster(cluster!)).findings, 'fsck after the repair').toEqual([]);
  });

  it('MongoDB-wire server restarted while a restore writes', { timeout: TEST_MS }, async () => {
    await restoreUnder('MongoDB restart mid-restore', () => mongo!.restart());
  });

  it('NATS restarted while a restore writes', { timeout: TEST_MS }, async () => {
    await restoreUnder('NATS restart mid-restore', () => nats!.restart());
  });
});
