import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TresorClient } from '@tresor/client';
import type { JobRecord } from '@tresor/contracts';
import { connectMongoCatalog } from '@tresor/catalog';
import { fsckRepository } from '@tresor/repository';
import type { FsckReport } from '@tresor/repository';
import { openClusterRepository, serviceKeySupplier } from '@tresor/service';
import { LocalStore } from '@tresor/storage';
import { PASSPHRASE } from '../cluster/cluster.js';
import type { RunningService, TestCluster } from '../cluster/cluster.js';
import { hashTree } from '../support/tree.js';
import { until } from '../support/wait.js';

/** Writes `files` random files of `size` bytes under `dir` (a backup source whose bytes a restore must reproduce). */
export async function randomTree(dir: string, files: number, size: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < files; i++) await writeFile(join(dir, `key-${i}.bin`), randomBytes(size), { mode: 0o600 });
  return dir;
}

const FINAL = new Set(['completed', 'failed']);

/** Waits for a job to end; a probe that fails (a service down) counts as "not yet". */
export function finished(client: TresorClient, id: string, ms = 240_000): Promise<JobRecord> {
  return until(`job ${id} to finish`, ms, async () => {
    const j = await client.jobs.get(id);
    return FINAL.has(j.state) ? j : undefined;
  }, { tolerateErrors: true, intervalMs: 200 });
}

/**
 * Services the test restarts itself, as a supervisor would: each keeps the environment it was
 * first started with.
 */
export class Supervisor {
  private readonly extras = new Map<string, Record<string, string>>();
  constructor(private readonly cluster: TestCluster) {}

  async start(name: string, extra: Record<string, string> = {}): Promise<RunningService> {
    this.extras.set(name, extra);
    return this.cluster.start(name, extra);
  }

  /** The running instance of `name`. */
  get(name: string): RunningService {
    const s = this.cluster.services.find((x) => x.name === name && x.child.exitCode === null && x.child.signalCode === null);
    if (!s) throw new Error(`${name} is not running`);
    return s;
  }

  /** `kill -9` of the service; resolves once the process is gone. */
  async kill(name: string): Promise<void> {
    const s = this.get(name);
    await new Promise<void>((r) => {
      s.child.once('exit', () => r());
      s.child.kill('SIGKILL');
    });
    this.cluster.services.splice(this.cluster.services.indexOf(s), 1);
  }

  /** Starts the service again with its first environment. */
  restart(name: string): Promise<RunningService> {
    return this.cluster.start(name, this.extras.get(name) ?? {});
  }

  /** Every service the test did not kill is still the same process. */
  expectAllRunning(): void {
    for (const s of this.cluster.services) expect(s.child.exitCode, `${s.name} exited`).toBeNull();
  }
}

export interface Accepted {
  readonly kind: 'backup' | 'restore';
  readonly job: JobRecord;
  /** Backups: the source directory; restores: the directory restored to and the source it must match. */
  readonly source: string;
  readonly target?: string;
}

/**
 * A stream of backups and restores through the gateway, one of each in flight at a time, until
 * stop() is called. Requests the gateway refuses (a service it needs is down) are counted, not
 * accepted; every accepted job is returned for the checks.
 */
export function jobStream(client: TresorClient, source: string, scratch: string): { accepted: Accepted[]; refused: string[]; stop(): Promise<void> } {
  const accepted: Accepted[] = [];
  const refused: string[] = [];
  let running = true;
  const backups = (async () => {
    while (running) {
      try {
        const job = await client.backups.create({ source: { kind: 'filesystem', location: source } }, { idempotencyKey: randomUUID() });
        accepted.push({ kind: 'backup', job, source });
        await finished(client, job.id);
      } catch (err) {
        refused.push(`backup: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  const restoreLoop = (async () => {
    while (running) {
      const done = accepted.filter((a) => a.kind === 'backup').map((a) => a.job.id);
      const last = done.length ? await client.jobs.get(done[done.length - 1]!).catch(() => undefined) : undefined;
      const backupId = last?.state === 'completed' ? (last.result as { backupId: string }).backupId : undefined;
      if (!backupId) {
        await new Promise((r) => setTimeout(r, 300));
        continue;
      }
      const target = join(scratch, `stream-restore-${randomUUID()}`);
      try {
        const job = await client.backups.restore({ backup: backupId, target, include: [], exclude: [], dryRun: false, overwrite: false }, { idempotencyKey: randomUUID() });
        accepted.push({ kind: 'restore', job, source, target });
        await finished(client, job.id);
      } catch (err) {
        refused.push(`restore: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  return {
    accepted,
    refused,
    async stop() {
      running = false;
      await Promise.all([backups, restoreLoop]);
    },
  };
}

/** fsck of the cluster's repository: its MongoDB catalog against the storage-gateway's directory. */
export async function fsckCluster(cluster: TestCluster, readData = true): Promise<FsckReport> {
  const mongo = await connectMongoCatalog(cluster.mongoUrl, cluster.mongo.dbName);
  const store = await LocalStore.open({ path: join(cluster.repo, 'objects') });
  try {
    const repo = await openClusterRepository(cluster.repo, store, mongo.catalog, serviceKeySupplier({ TRESOR_PASSPHRASE: PASSPHRASE }));
    return await fsckRepository(repo, { readData });
  } finally {
    await mongo.close();
  }
}

/** Orphans the cluster repair found and removed (summed over a test file, for docs/reliability.md). */
export const repairTotals = { found: 0, removed: 0 };

/**
 * The cluster repair once every job has ended: `tresor fsck --server --repair --older-than 1s`
 * through the gateway (the monitoring service runs it). Nothing is in flight, so a short age is
 * safe here; in production the age is longer than the longest backup job.
 */
export async function repairCluster(cluster: TestCluster, gateway: string): Promise<{ found: number; removed: number }> {
  const r = await cluster.cli(['--json', 'fsck', '--server', gateway, '--repair', '--older-than', '1s']);
  expect(r.code, `fsck --server --repair: ${r.stderr}`).toBe(0);
  const report = JSON.parse(r.stdout) as FsckReport;
  const removed = report.repairs.filter((x) => x.outcome === 'deleted').length;
  expect(report.repairs.filter((x) => x.outcome !== 'deleted'), 'every orphan removed').toEqual([]);
  repairTotals.found += report.repairs.length;
  repairTotals.removed += removed;
  return { found: report.repairs.length, removed };
}

/**
 * The checks after a fault: every accepted job completed or failed with a reason; each completed
 * backup job has its own backup, exactly once in the catalog; after the cluster repair (the
 * cluster's monitoring service must run) fsck finds nothing at all — no orphan object, no backup
 * without its objects; every completed backup restores byte for byte; and the audit chain verifies
 * through the gateway and `tresor audit verify --server`. `accepted` is every job since the
 * cluster started (the catalog is compared with all of them).
 * Returns a one-line summary for the test's log.
 */
export async function checkAfterFault(cluster: TestCluster, client: TresorClient, gateway: string, accepted: readonly Accepted[], fault: string, checked = new Set<string>()): Promise<string> {
  const hashes = new Map<string, Promise<Record<string, string>>>();
  const expected = (source: string) => hashes.get(source) ?? hashes.set(source, hashTree(source)).get(source)!;
  const ended = await Promise.all(accepted.map(async (a) => ({ ...a, job: await finished(client, a.job.id) })));
  for (const a of ended) {
    expect(['completed', 'failed'], `${a.kind} ${a.job.id}`).toContain(a.job.state);
    if (a.job.state === 'failed') expect(a.job.error, `failed ${a.kind} ${a.job.id} says why`).not.toBeNull();
  }
  const completed = ended.filter((a) => a.kind === 'backup' && a.job.state === 'completed').map((a) => ({ id: (a.job.result as { backupId: string }).backupId, source: a.source }));
  const completedBackups = completed.map((b) => b.id);
  expect(new Set(completedBackups).size, 'one backup per completed job').toBe(completedBackups.length);
  const catalogued = (await client.backups.list()).map((b) => b.id).sort();
  expect(catalogued, 'the catalog holds exactly the completed backups').toEqual([...completedBackups].sort());

  // Restores the stream finished must match the source.
  for (const a of ended.filter((x) => x.kind === 'restore' && x.job.state === 'completed')) expect(await hashTree(a.target!), `restore ${a.job.id}`).toEqual(await expected(a.source));

  const repaired = await repairCluster(cluster, gateway);
  const report = await fsckCluster(cluster);
  expect(report.findings, 'fsck after the repair: nothing at all').toEqual([]);

  // Every completed backup restores byte for byte (a fresh restore each, after the fault; `checked`: done before).
  for (const { id: backupId, source } of completed.filter((b) => !checked.has(b.id))) {
    checked.add(backupId);
    const target = join(cluster.dir, `check-${randomUUID()}`);
    const job = await client.backups.restore({ backup: backupId, target, include: [], exclude: [], dryRun: false, overwrite: false });
    const done = await finished(client, job.id);
    expect(done.error, `restore of ${backupId}`).toBeNull();
    expect(await hashTree(target), `restore of ${backupId}`).toEqual(await expected(source));
  }

  const audit = await until('the audit chain to verify', 60_000, async () => {
    const r = await client.audit.verify();
    return r.ok ? r : undefined;
  }, { tolerateErrors: true });
  const cli = await cluster.cli(['audit', 'verify', '--server', gateway]);
  expect(cli.code, cli.stderr).toBe(0);
  const failed = ended.filter((a) => a.job.state === 'failed');
  return (
    `${fault}: ${ended.length} jobs accepted (${completedBackups.length} backups completed, ${failed.length} failed` +
    `${failed.length ? `: ${failed.map((a) => `${a.kind} ${JSON.stringify(a.job.error)}`).join('; ')}` : ''}), ` +
    `cluster repair: ${repaired.found} orphan(s) found, ${repaired.removed} removed, fsck then clean, ` +
    `audit ${audit.entries} entries ok`
  );
}
