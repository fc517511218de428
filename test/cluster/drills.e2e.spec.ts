import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpSink, type HttpSink } from '../support/sinks.js';
import { TestCluster } from './cluster.js';

interface Delivered {
  kind: string;
  rule: string;
  level: string;
  source?: string;
}
interface DrillDoc {
  source: string;
  backupId: string;
  ok: boolean;
  rtoSeconds: number;
  entriesVerified: number;
  problem?: string;
}

/** Restore drills on a schedule in the monitoring service, against the cluster's storage gateway and catalog. */
describe('cluster restore drills (monitoring, scheduled)', () => {
  let cluster: TestCluster;
  let server: string;
  let sink: HttpSink;
  let mongo: MongoClient;
  beforeAll(async () => {
    sink = await startHttpSink();
    cluster = await TestCluster.create();
    const alerts = join(cluster.dir, 'alerts.json');
    await writeFile(alerts, JSON.stringify({ groupWindowMs: 0, channels: { hook: { type: 'webhook', url: `${sink.url}/alerts`, secret: { env: 'TRESOR_TEST_DRILL_HMAC' } } }, routes: [{ levels: ['CRITICAL'], channels: ['hook'] }] }));
    const monitorConfig = join(cluster.dir, 'monitor.json');
    await writeFile(monitorConfig, JSON.stringify({ drills: { schedule: '*/3 * * * * *' } }));
    await cluster.start('storage-gateway');
    // Two monitoring replicas: each due time is drilled once (the claim in MongoDB).
    const env = { TRESOR_ALERTS_CONFIG: alerts, TRESOR_ALERTS_TICK_MS: '100', TRESOR_MONITOR_CONFIG: monitorConfig, TRESOR_TEST_DRILL_HMAC: 'drill-hmac' };
    await Promise.all([cluster.start('backup-engine'), cluster.start('monitoring', env), cluster.start('monitoring', env)]);
    server = (await cluster.start('gateway')).http;
    mongo = await MongoClient.connect(cluster.mongo.url);
  }, 180_000);
  afterAll(async () => {
    await mongo?.close();
    await cluster?.stop();
    await sink?.close();
  });

  const drills = async (): Promise<DrillDoc[]> => (await mongo.db(cluster.mongo.dbName).collection('drills').find({}).sort({ finishedAt: 1 }).toArray()) as unknown as DrillDoc[];
  const delivered = (): Delivered[] => sink.requests.flatMap((r) => (r.json as { alerts: Delivered[] }).alerts);
  const waitFor = async (what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await ok()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await ok(), what).toBe(true);
  };

  it('drills the latest backup on schedule, records its RTO once per due time, and alerts CRITICAL over a corrupted archive', async () => {
    const src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 5; i++) await writeFile(join(src, `k${i}.pem`), `secret-${i}-`.repeat(300), { mode: 0o600 });
    const backup = await cluster.cli(['--server', server, 'backup', src, '--json']);
    expect(backup.stderr).toBe('');
    const { backupId } = JSON.parse(backup.stdout) as { backupId: string };

    await waitFor('a drill recorded', async () => (await drills()).some((d) => d.ok));
    const ok = (await drills()).find((d) => d.ok)!;
    expect(ok).toMatchObject({ source: src, backupId, entriesVerified: 5 });
    expect(ok.rtoSeconds).toBeGreaterThan(0);
    const claims = await mongo.db(cluster.mongo.dbName).collection('drill_claims').find({}).toArray();
    // One drill per claimed due time, whichever replica claimed it.
    expect((await drills()).length).toBeLessThanOrEqual(claims.length);
    // The replica that ran the drill (the leader) observes its RTO: look at every replica.
    const replicas = cluster.services.filter((s) => s.name === 'monitoring').map((s) => s.http);
    expect(replicas).toHaveLength(2);
    const drillRto = async (url: string) => (await (await fetch(`${url}/metrics`)).text()).split('\n').some((l) => l.startsWith('tresor_sli_rto_seconds{') && l.includes('kind="drill"'));
    await waitFor('rto metric', async () => (await Promise.all(replicas.map(drillRto))).some(Boolean));

    const archive = join(cluster.repo, 'objects', 'archives', `${backupId}.tra`);
    const original = await readFile(archive);
    const bytes = Buffer.from(original);
    bytes[bytes.length - 40] = bytes[bytes.length - 40]! ^ 0x01;
    await writeFile(archive, bytes);
    try {
      await waitFor('CRITICAL restore-drill-failed delivered', () => delivered().some((a) => a.kind === 'raised' && a.rule === 'restore-drill-failed' && a.level === 'CRITICAL' && a.source === src));
      expect((await drills()).some((d) => !d.ok && d.problem)).toBe(true);
    } finally {
      await writeFile(archive, original);
    }
  }, 300_000);
});
