import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpSink, type HttpSink } from '../support/sinks.js';
import { TestCluster } from './cluster.js';

interface Delivered {
  kind: string;
  rule: string;
  level: string;
  source?: string;
  summary: string;
}

/** The monitoring service's health checks: backup freshness per source from MongoDB, alerted to a real webhook. */
describe('cluster health checks (monitoring as its own process)', () => {
  let cluster: TestCluster;
  let server: string;
  let monitoring: string;
  let sink: HttpSink;
  beforeAll(async () => {
    sink = await startHttpSink();
    cluster = await TestCluster.create();
    const alerts = join(cluster.dir, 'alerts.json');
    await writeFile(alerts, JSON.stringify({ groupWindowMs: 0, channels: { hook: { type: 'webhook', url: `${sink.url}/alerts`, secret: { env: 'TRESOR_TEST_CHECKS_HMAC' } } }, routes: [{ levels: ['WARNING', 'CRITICAL'], channels: ['hook'] }] }));
    // An RPO of 12 s: a backup is fresh for 12 s, then WARNING, CRITICAL after 24 s.
    const monitorConfig = join(cluster.dir, 'monitor.json');
    await writeFile(monitorConfig, JSON.stringify({ intervalSeconds: 1, freshness: { rpoHours: 12 / 3600 } }));
    await cluster.start('storage-gateway');
    const env = { TRESOR_ALERTS_CONFIG: alerts, TRESOR_ALERTS_TICK_MS: '100', TRESOR_MONITOR_CONFIG: monitorConfig, TRESOR_TEST_CHECKS_HMAC: 'checks-hmac' };
    const [, m] = await Promise.all([cluster.start('backup-engine'), cluster.start('monitoring', env)]);
    monitoring = m.http;
    server = (await cluster.start('gateway')).http;
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
    await sink?.close();
  });

  const delivered = (): Delivered[] => sink.requests.flatMap((r) => (r.json as { alerts: Delivered[] }).alerts);
  const waitFor = async (what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await ok()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await ok(), `${what}; delivered ${JSON.stringify(delivered())}`).toBe(true);
  };
  const checkStatus = async (source: string): Promise<number | undefined> => {
    const text = await (await fetch(`${monitoring}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('tresor_check_status{') && l.includes('check="freshness"') && l.includes(`target="${source}"`));
    return line ? Number(line.split(' ').at(-1)) : undefined;
  };

  it('warns when a source has no backup within its RPO and resolves on the next backup', async () => {
    const src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'a.key'), 'a'.repeat(1000), { mode: 0o600 });
    expect((await cluster.cli(['--server', server, 'backup', src])).stderr).toBe('');
    await waitFor('fresh', async () => (await checkStatus(src)) === 0);

    await waitFor('raised', () => delivered().some((a) => a.kind === 'raised' && a.rule === 'check-freshness' && a.source === src));
    expect(delivered().find((a) => a.rule === 'check-freshness')).toMatchObject({ level: 'WARNING', summary: expect.stringMatching(/no successful backup for/) });
    expect(await checkStatus(src)).toBeGreaterThanOrEqual(1);

    expect((await cluster.cli(['--server', server, 'backup', src])).stderr).toBe('');
    await waitFor('resolved', () => delivered().some((a) => a.kind === 'resolved' && a.rule === 'check-freshness' && a.source === src));
  }, 240_000);
});
