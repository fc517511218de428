import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpSink, type HttpSink } from '../support/sinks.js';
import { PASSPHRASE, TestCluster } from './cluster.js';

interface Delivered {
  kind: string;
  rule: string;
  level: string;
  source?: string;
  key?: string;
  summary: string;
}

/**
 * The monitoring service's health checks, alerted to a real webhook: backup freshness per source from
 * MongoDB, the storage probe through the storage gateway, the KEK cryptoperiods of the repository.
 */
describe('cluster health checks (monitoring as its own process)', () => {
  let cluster: TestCluster;
  let server: string;
  let monitoring: string;
  let sink: HttpSink;
  beforeAll(async () => {
    sink = await startHttpSink();
    cluster = await TestCluster.create();
    // KEK version 2 with a 10-day cryptoperiod: within keys.warnDays (30) of its end from the start.
    const rotate = await cluster.cli(['--repo', cluster.repo, 'keys', 'rotate', '--new-passphrase-env', 'NEW_PASS', '--cryptoperiod-days', '10'], { NEW_PASS: PASSPHRASE });
    expect(rotate.code, rotate.stderr).toBe(0);
    const alerts = join(cluster.dir, 'alerts.json');
    await writeFile(alerts, JSON.stringify({ groupWindowMs: 0, channels: { hook: { type: 'webhook', url: `${sink.url}/alerts`, secret: { env: 'TRESOR_TEST_CHECKS_HMAC' } } }, routes: [{ levels: ['WARNING', 'CRITICAL'], channels: ['hook'] }] }));
    // An RPO of 12 s: a backup is fresh for 12 s, then WARNING, CRITICAL after 24 s. The storage
    // probe's latency is not judged here (a loaded test machine), only whether it succeeds.
    const monitorConfig = join(cluster.dir, 'monitor.json');
    await writeFile(monitorConfig, JSON.stringify({ intervalSeconds: 1, freshness: { rpoHours: 12 / 3600 }, storage: { latencyWarningMs: 60_000 } }));
    await cluster.start('storage-gateway');
    const env = { TRESOR_ALERTS_CONFIG: alerts, TRESOR_ALERTS_TICK_MS: '100', TRESOR_MONITOR_CONFIG: monitorConfig, TRESOR_TEST_CHECKS_HMAC: 'checks-hmac' };
    const [, m] = await Promise.all([cluster.start('backup-engine'), cluster.start('monitoring', env)]);
    // The repository directory is TRESOR_REPO (tresor.json and the signing public key) of every service.
    expect(cluster.env().TRESOR_REPO).toBe(cluster.repo);
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
  const checkStatus = async (target: string, check = 'freshness'): Promise<number | undefined> => {
    const text = await (await fetch(`${monitoring}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('tresor_check_status{') && l.includes(`check="${check}"`) && l.includes(`target="${target}"`));
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

  it('warns of a KEK version near the end of its cryptoperiod, read through the storage gateway without key material', async () => {
    await waitFor('v2 warning', async () => (await checkStatus('v2', 'kek-cryptoperiod')) === 1);
    expect(await checkStatus('v1', 'kek-cryptoperiod')).toBe(0);
    await waitFor('raised', () => delivered().some((a) => a.kind === 'raised' && a.rule === 'check-kek-cryptoperiod'));
    const raised = delivered().filter((a) => a.rule === 'check-kek-cryptoperiod');
    expect(raised).toEqual([expect.objectContaining({ kind: 'raised', level: 'WARNING', key: 'v2', summary: expect.stringMatching(/^KEK v2: \d+ day\(s\) left of its cryptoperiod of 10 days$/) })]);
  }, 120_000);

  it('probes storage through the storage gateway: CRITICAL while the gateway is down, resolved when it is back', async () => {
    await waitFor('storage ok', async () => (await checkStatus('storage-gateway', 'storage')) === 0);
    expect(delivered().filter((a) => a.rule === 'check-storage')).toEqual([]);

    const gateway = cluster.services.find((s) => s.name === 'storage-gateway' && s.child.exitCode === null && s.child.signalCode === null)!;
    const exited = new Promise((r) => gateway.child.once('exit', r));
    gateway.child.kill('SIGKILL');
    await exited;
    await waitFor('raised', () => delivered().some((a) => a.kind === 'raised' && a.rule === 'check-storage'));
    expect(delivered().find((a) => a.rule === 'check-storage')).toMatchObject({ level: 'CRITICAL', key: 'storage-gateway', summary: expect.stringMatching(/^storage location storage-gateway is not reachable or not writable: /) });
    expect(await checkStatus('storage-gateway', 'storage')).toBe(2);
    // The KEK versions cannot be read meanwhile: the last ones read are still judged.
    expect(await checkStatus('v2', 'kek-cryptoperiod')).toBe(1);

    await cluster.start('storage-gateway');
    await waitFor('resolved', () => delivered().some((a) => a.kind === 'resolved' && a.rule === 'check-storage'));
    await waitFor('storage ok again', async () => (await checkStatus('storage-gateway', 'storage')) === 0);
    expect(delivered().filter((a) => a.rule === 'check-storage').map((a) => a.kind)).toEqual(['raised', 'resolved']);
  }, 180_000);
});
