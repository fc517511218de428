import { copyFile, readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import type { AuditEntry } from '@tresor/contracts';
import { TestCluster } from '../cluster/cluster.js';
import { until } from '../support/wait.js';
import { finished, randomTree } from './cluster-faults.js';

interface Report {
  ok: boolean;
  findings: { kind: string; key?: string }[];
  repairs: { key: string; outcome: string }[];
}

/** An id of the form Tresor gives backups, of a backup the catalog never had. */
const GHOST = '20990101T000000Z-0badf00d';

/**
 * `tresor fsck --server` (POST /v1/fsck, run by the monitoring service) against a real cluster:
 * planted orphans are found, kept while younger than --older-than, removed when older, with an audit
 * entry for the request and one for the removal; and the monitoring leader's sweep removes orphans
 * older than its grace by itself, leaving younger ones (a backup in flight) alone.
 */
describe('cluster fsck and orphan repair', () => {
  let cluster: TestCluster;
  let client: TresorClient;
  let gateway: string;
  let objects: string;
  let archive: string;

  const fsck = async (...args: string[]) => {
    const r = await cluster.cli(['--json', 'fsck', '--server', gateway, ...args]);
    return { code: r.code, stderr: r.stderr, report: JSON.parse(r.stdout || '{}') as Report };
  };
  const auditActions = async (): Promise<AuditEntry[]> => {
    const all: AuditEntry[] = [];
    for (let from: number | null = 1; from !== null; ) {
      const page = await client.audit.entries(from, 1000);
      all.push(...page.entries);
      from = page.next;
    }
    return all;
  };
  /** Copies the real archive under the id of a backup the catalog does not know, written `ageMs` ago. */
  const plant = async (id: string, ageMs: number) => {
    const keys = [join(objects, 'archives', `${id}.tra`), join(objects, 'manifests', `${id}.json`)];
    await copyFile(join(objects, 'archives', archive), keys[0]!);
    await copyFile(join(objects, 'archives', archive), keys[1]!);
    const then = new Date(Date.now() - ageMs);
    for (const k of keys) await utimes(k, then, then);
  };

  beforeAll(async () => {
    cluster = await TestCluster.create();
    objects = join(cluster.repo, 'objects');
    await cluster.start('storage-gateway');
    // The sweep runs every second here; its grace (10 min) keeps anything written recently.
    await Promise.all([cluster.start('backup-engine'), cluster.start('audit'), cluster.start('monitoring', { TRESOR_ORPHAN_SWEEP_INTERVAL_MS: '1000', TRESOR_ORPHAN_GRACE_MS: '600000' })]);
    gateway = (await cluster.start('gateway')).http;
    client = new TresorClient({ url: gateway });
    const source = await randomTree(join(cluster.dir, 'keys'), 8, 16 * 1024);
    const job = await finished(client, (await client.backups.create({ source: { kind: 'filesystem', location: source } })).id);
    expect(job.state).toBe('completed');
    archive = (await readdir(join(objects, 'archives')))[0]!;
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('finds orphans (exit 5), keeps young ones, removes old ones, and records both', { timeout: 300_000 }, async () => {
    expect((await fsck('--read-data')).code, 'a fresh cluster is consistent').toBe(0);
    await plant(GHOST, 60_000);

    const found = await fsck();
    expect(found.code, found.stderr).toBe(5);
    expect(found.stderr).toMatch(/^tresor: fsck found 2 problem\(s\) \(orphan\)/);
    expect(found.report.findings.map((f) => [f.kind, f.key]).sort()).toEqual([['orphan', `archives/${GHOST}.tra`], ['orphan', `manifests/${GHOST}.json`]]);

    // Written a minute ago: an hour's safety age keeps them (they could belong to a backup in flight).
    const kept = await fsck('--repair', '--older-than', '1h');
    expect(kept.code).toBe(5);
    expect(kept.report.repairs.map((r) => r.outcome)).toEqual(['young', 'young']);

    const repaired = await fsck('--repair', '--older-than', '30s');
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.report.repairs.map((r) => [r.key, r.outcome]).sort()).toEqual([[`archives/${GHOST}.tra`, 'deleted'], [`manifests/${GHOST}.json`, 'deleted']]);
    expect((await readdir(join(objects, 'archives'))).sort()).toEqual([archive]);
    expect((await fsck('--read-data')).code, 'consistent after the repair').toBe(0);

    const entries = await until('the repair in the audit log', 60_000, async () => {
      const all = await auditActions();
      return all.some((e) => e.action === 'repository.orphans-removed') ? all : undefined;
    });
    expect(entries.filter((e) => e.action === 'repository:fsck').length, 'each POST /v1/fsck audited').toBeGreaterThanOrEqual(5);
    const removal = entries.find((e) => e.action === 'repository.orphans-removed')!;
    expect((removal.details as { data: { trigger: string; count: number } }).data).toMatchObject({ trigger: 'request', count: 2 });
  });

  it('the monitoring leader sweeps orphans older than its grace, and only those', { timeout: 300_000 }, async () => {
    const old = '20990101T000000Z-00000001';
    const young = '20990101T000000Z-00000002';
    await plant(old, 3_600_000);
    await plant(young, 0);
    await until('the sweep to remove the old orphan', 60_000, async () => ((await readdir(join(objects, 'archives'))).includes(`${old}.tra`) ? undefined : true));
    const left = (await readdir(join(objects, 'archives'))).sort();
    expect(left, 'the young orphan (a backup in flight, maybe) stays').toEqual([archive, `${young}.tra`].sort());
    const monitoring = cluster.services.find((s) => s.name === 'monitoring')!;
    // The sweep counts its removals once it has removed both objects: the archive goes first.
    const counted = /^tresor_orphans_removed_total\{[^}]*trigger="sweep"[^}]*\} 2$/m;
    let metrics = '';
    await until('the sweep to count its removals', 60_000, async () => {
      metrics = await (await fetch(`${monitoring.http}/metrics`)).text();
      return counted.test(metrics) ? true : undefined;
    });
    expect(metrics).toMatch(counted);
    const sweeps = await until('the sweep in the audit log', 60_000, async () => {
      const found = (await auditActions()).filter((e) => e.action === 'repository.orphans-removed' && (e.details as { data: { trigger: string } }).data.trigger === 'sweep');
      return found.length ? found : undefined;
    });
    expect((sweeps[0]!.details as { data: { removed: { key: string }[] } }).data.removed.map((r) => r.key).sort()).toEqual([`archives/${old}.tra`, `manifests/${old}.json`]);
  });
});
