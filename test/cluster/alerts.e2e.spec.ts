import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoAlertHistory } from '@tresor/alerting';
import { startHttpSink, type HttpSink } from '../support/sinks.js';
import { TestCluster } from './cluster.js';

const HMAC = 'cluster-alerts-hmac-77e1';

interface Delivered {
  alerts: { kind: string; rule: string; level: string; source?: string; key?: string; summary: string }[];
}

/** Alerts end to end: real job failures in a running cluster reach a webhook and the history. */
describe('cluster alerts (monitoring as its own process)', () => {
  let cluster: TestCluster;
  let server: string;
  let sink: HttpSink;
  let monitoringEnv: Record<string, string>;
  const events: { type: string; data: Record<string, unknown> }[] = [];
  beforeAll(async () => {
    sink = await startHttpSink();
    cluster = await TestCluster.create();
    const config = join(cluster.dir, 'alerts.json');
    await writeFile(
      config,
      JSON.stringify({
        groupWindowMs: 0,
        channels: { hook: { type: 'webhook', url: `${sink.url}/alerts`, secret: { env: 'TRESOR_TEST_CLUSTER_HMAC' } } },
        routes: [{ levels: ['WARNING', 'CRITICAL'], channels: ['hook'] }],
      }),
    );
    // The delivered alerts are counted: a storage probe slow on a loaded machine must not add a WARNING.
    const monitorConfig = join(cluster.dir, 'monitor.json');
    await writeFile(monitorConfig, JSON.stringify({ storage: { latencyWarningMs: 600_000 } }));
    await cluster.start('storage-gateway');
    monitoringEnv = { TRESOR_ALERTS_CONFIG: config, TRESOR_MONITOR_CONFIG: monitorConfig, TRESOR_ALERTS_TICK_MS: '100', TRESOR_TEST_CLUSTER_HMAC: HMAC };
    await Promise.all([cluster.start('backup-engine'), cluster.start('recovery'), cluster.start('monitoring', monitoringEnv)]);
    server = (await cluster.start('gateway')).http;
    const nc = await cluster.nats.connect();
    nc.subscribe(`${cluster.nats.subjectPrefix}.events.alert.*`, { callback: (_e, m) => void events.push(JSON.parse(Buffer.from(m.data).toString())) });
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
    await sink?.close();
  });

  const delivered = (): Delivered['alerts'] => sink.requests.flatMap((r) => (r.json as Delivered).alerts);
  const waitFor = async (what: string, ok: () => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(ok(), `${what}; got ${JSON.stringify(delivered())}`).toBe(true);
  };

  it('raises on a failed backup and resolves on the next successful backup of that source', async () => {
    const src = join(cluster.dir, 'keys');
    const failed = await cluster.cli(['--server', server, 'backup', src]);
    expect(failed.code).not.toBe(0);
    await waitFor('raised', () => delivered().length === 1);
    expect(delivered()[0]).toMatchObject({ kind: 'raised', rule: 'backup-failed', level: 'CRITICAL', source: src });
    await waitFor('alert.raised event', () => events.length === 1);
    expect(events).toMatchObject([{ type: 'io.tresor.alert.raised.v1', data: { severity: 'critical' } }]);

    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'a.key'), 'k'.repeat(5000), { mode: 0o600 });
    const ok = await cluster.cli(['--server', server, 'backup', src]);
    expect(ok.stderr).toBe('');
    await waitFor('resolved', () => delivered().length === 2);
    expect(delivered()[1]).toMatchObject({ kind: 'resolved', rule: 'backup-failed', source: src });
    // The event is published alongside the webhook delivery, not before it: wait for it too.
    await waitFor('alert.resolved event', () => events.length === 2);
    expect(events.map((e) => e.type)).toEqual(['io.tresor.alert.raised.v1', 'io.tresor.alert.resolved.v1']);
    expect(events[1]!.data.alertId).toBe(events[0]!.data.alertId);
  });

  it('raises CRITICAL on a verify that finds a damaged archive, and records every alert in MongoDB', async () => {
    const src = join(cluster.dir, 'keys2');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'b.key'), 'b'.repeat(5000), { mode: 0o600 });
    const backup = await cluster.cli(['--server', server, 'backup', src, '--json']);
    const { backupId } = JSON.parse(backup.stdout) as { backupId: string };
    const archive = join(cluster.repo, 'objects', 'archives', `${backupId}.tra`);
    const bytes = await readFile(archive);
    bytes[bytes.length - 30] = bytes[bytes.length - 30]! ^ 0x01;
    await writeFile(archive, bytes);
    const before = delivered().length;
    const verify = await cluster.cli(['--server', server, 'verify', backupId, '--deep']);
    expect(verify.code).not.toBe(0);
    await waitFor('verify raised', () => delivered().length === before + 1);
    expect(delivered().at(-1)).toMatchObject({ kind: 'raised', rule: 'verify-failed', level: 'CRITICAL', key: backupId });

    const history = await MongoAlertHistory.open(cluster.mongo.db);
    const recorded = await history.query();
    expect(recorded.map((a) => [a.rule, a.state])).toEqual(
      expect.arrayContaining([
        ['backup-failed', 'resolved'],
        ['verify-failed', 'firing'],
      ]),
    );
    expect(sink.requests.map((r) => r.body.toString()).join()).not.toContain(HMAC);
  });

  it('alerts on a backup that failed while monitoring was down, without repeating alerts it already sent', async () => {
    const monitoring = cluster.services.find((s) => s.name === 'monitoring' && s.child.exitCode === null)!;
    await new Promise<void>((r) => {
      monitoring.child.once('exit', () => r());
      monitoring.child.kill('SIGTERM');
    });
    const src = join(cluster.dir, 'keys3');
    const before = delivered().length;
    expect((await cluster.cli(['--server', server, 'backup', src])).code).not.toBe(0);
    await cluster.start('monitoring', monitoringEnv);
    await waitFor('raised after restart', () => delivered().length === before + 1);
    expect(delivered().at(-1)).toMatchObject({ kind: 'raised', rule: 'backup-failed', source: src });
    // The firing verify-failed alert was resumed from the history, not announced again.
    await new Promise((r) => setTimeout(r, 1000));
    expect(delivered().slice(before).map((a) => a.rule)).toEqual(['backup-failed']);
  });
});
