import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import type { JobRecord } from '@tresor/contracts';
import { TestCluster } from '../cluster/cluster.js';
import type { RunningService } from '../cluster/cluster.js';
import { freePort } from '../support/infra.js';
import { hashTree } from '../support/tree.js';
import { until } from '../support/wait.js';
import { checkAfterFault, finished, jobStream, randomTree, repairTotals } from './cluster-faults.js';
import type { Accepted } from './cluster-faults.js';

const JOBS = { TRESOR_JOB_ACK_WAIT_MS: '5000' };

/** A client error, with when it happened (to tell errors of the outage from errors after it) and the request's key. */
interface ClientError {
  readonly at: number;
  readonly message: string;
  readonly code: string | undefined;
  readonly key: string;
}

/**
 * `kill -9` of a gateway replica while clients stream backups and restores through it and through
 * a second replica. Its clients get errors only while it is down (requests in flight when it died,
 * and requests sent before it was back); they retry each request with the same Idempotency-Key,
 * as the client docs say, so a job accepted by the dead process is neither lost nor started twice.
 * The other replica serves without an error throughout. After the restart (same port, as a
 * supervisor would) every job completed exactly once or failed with a reason, after the cluster
 * repair (the monitoring service runs it) fsck finds nothing, every backup restores byte for byte
 * and the audit chain verifies.
 */
describe('gateway killed (-9) during a stream of backups and restores', () => {
  let cluster: TestCluster;
  let source: string;
  let killed: { env: Record<string, string>; service: RunningService; client: TresorClient };
  let other: { http: string; client: TresorClient };

  beforeAll(async () => {
    cluster = await TestCluster.create();
    await cluster.start('storage-gateway', { ...JOBS, TRESOR_UPLOAD_IDLE_MS: '2000' });
    // 40 ms per 64 KiB: backups take a couple of seconds, so jobs are in flight when the gateway dies.
    await cluster.start('backup-engine', { ...JOBS, TRESOR_TEST_UPLOAD_DELAY_MS: '40' });
    await cluster.start('recovery', JOBS);
    await cluster.start('audit', JOBS);
    // Runs the cluster's fsck and repair (POST /v1/fsck).
    await cluster.start('monitoring');
    // A fixed port, so the restarted replica is where its clients look for it.
    const env = { ...JOBS, TRESOR_INSTANCE: 'gateway-a', TRESOR_HTTP_PORT: String(await freePort()) };
    const service = await cluster.start('gateway', env);
    killed = { env, service, client: new TresorClient({ url: service.http }) };
    const b = await cluster.start('gateway', { ...JOBS, TRESOR_INSTANCE: 'gateway-b' });
    other = { http: b.http, client: new TresorClient({ url: b.http }) };
    source = await randomTree(join(cluster.dir, 'keys'), 48, 64 * 1024);
  }, 300_000);
  afterAll(async () => {
    console.log(`gateway kill: the cluster repair found ${repairTotals.found} orphan(s), removed ${repairTotals.removed}`);
    await cluster?.stop();
  });

  /** Sends `call` until the gateway accepts it; every attempt uses the same Idempotency-Key. */
  const untilAccepted = async (call: (idempotencyKey: string) => Promise<JobRecord>, errors: ClientError[]) => {
    const key = randomUUID();
    for (;;) {
      try {
        return { key, job: await call(key) };
      } catch (err) {
        errors.push({ at: Date.now(), message: (err as Error).message, code: (err as { code?: string }).code, key });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };

  it('clients of the killed replica see errors only while it is down; every accepted job runs once', { timeout: 900_000 }, async () => {
    const errors: ClientError[] = [];
    const accepted: Accepted[] = [];
    const keys = new Map<string, string>();
    let running = true;
    const backup = async () => {
      const { key, job } = await untilAccepted((idempotencyKey) => killed.client.backups.create({ source: { kind: 'filesystem', location: source } }, { idempotencyKey }), errors);
      keys.set(key, job.id);
      accepted.push({ kind: 'backup', job, source });
      return job;
    };
    // Through the replica that will be killed: one backup, then a restore of it, over and over.
    const retryingStream = (async () => {
      while (running) {
        const done = await finished(killed.client, (await backup()).id);
        if (done.state !== 'completed' || !running) continue;
        const target = join(cluster.dir, `restore-${randomUUID()}`);
        const restore = { backup: (done.result as { backupId: string }).backupId, target, include: [], exclude: [], dryRun: false, overwrite: false };
        const { key, job } = await untilAccepted((idempotencyKey) => killed.client.backups.restore(restore, { idempotencyKey }), errors);
        keys.set(key, job.id);
        accepted.push({ kind: 'restore', job, source, target });
        await finished(killed.client, job.id);
      }
    })();
    // Through the other replica, which stays up.
    const steady = jobStream(other.client, source, cluster.dir);

    await untilCompleted(() => accepted, 1);
    // A burst of backup requests, then the kill while they are being answered.
    const burst = Array.from({ length: 4 }, () => backup());
    await new Promise((r) => setTimeout(r, 30));
    const killedAt = Date.now();
    await new Promise<void>((r) => {
      killed.service.child.once('exit', () => r());
      killed.service.child.kill('SIGKILL');
    });
    cluster.services.splice(cluster.services.indexOf(killed.service), 1);
    await new Promise((r) => setTimeout(r, 2000));
    killed.service = await cluster.start('gateway', killed.env);
    const backAt = Date.now();
    await Promise.all(burst);
    const before = accepted.length;
    await untilCompleted(() => accepted.slice(before), 2);
    running = false;
    await Promise.all([retryingStream, steady.stop()]);

    const kinds = [...new Set(errors.map((e) => e.message.replace(/^.*: /, '')))];
    console.log(`gateway kill -9: ${new Set(errors.map((e) => e.key)).size} requests got errors while it was down (${errors.length} attempts: ${kinds.join(', ')}), each accepted once when retried with its key; the other replica refused ${steady.refused.length}`);
    expect(errors.length, 'the requests in flight failed').toBeGreaterThan(0);
    expect(errors.filter((e) => e.at < killedAt || e.at > backAt), 'errors only while the replica was down').toEqual([]);
    // The client says the gateway could not be reached (retry), never that the request was wrong.
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['UNAVAILABLE']));
    expect(steady.refused, 'the other replica served throughout').toEqual([]);

    // One job per Idempotency-Key, the one its client was given.
    const jobs = await other.client.jobs.list();
    for (const [key, id] of keys) expect(jobs.filter((j) => j.idempotencyKey === key).map((j) => j.id), `jobs of key ${key}`).toEqual([id]);

    const all = [...accepted, ...steady.accepted];
    console.log(await checkAfterFault(cluster, other.client, other.http, all, 'gateway kill -9'));
    for (const s of cluster.services) expect(s.child.exitCode, `${s.name} exited`).toBeNull();

    // The restarted replica works: a backup and its restore through it, and its view of the audit chain.
    const after = await finished(killed.client, (await killed.client.backups.create({ source: { kind: 'filesystem', location: source } })).id);
    expect(after.state).toBe('completed');
    const target = join(cluster.dir, 'after-restart');
    const restored = await finished(killed.client, (await killed.client.backups.restore({ backup: (after.result as { backupId: string }).backupId, target, include: [], exclude: [], dryRun: false, overwrite: false })).id);
    expect(restored.error).toBeNull();
    expect(await hashTree(target)).toEqual(await hashTree(source));
    expect((await killed.client.audit.verify()).ok).toBe(true);
  });

  /** Waits until `n` backups among `jobs()` completed. */
  const untilCompleted = (jobs: () => readonly Accepted[], n: number) =>
    until(`${n} completed backups`, 240_000, async () => {
      const states = await Promise.all(jobs().filter((a) => a.kind === 'backup').map((a) => other.client.jobs.get(a.job.id).then((j) => j.state)));
      return states.filter((s) => s === 'completed').length >= n ? true : undefined;
    }, { intervalMs: 250 });
});
