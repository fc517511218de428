import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import type { Alert, ComplianceReport, DrillRecord, Finding } from '@tresor/contracts';
import { until } from '../support/wait.js';
import { TestCluster } from './cluster.js';

/** Issue #8: alerts, drills and the compliance report through the gateway and `tresor --server`. */
describe('cluster assurance API (alerts, drills, compliance report)', () => {
  let cluster: TestCluster;
  let server: string;
  let client: TresorClient;
  let src: string;
  beforeAll(async () => {
    cluster = await TestCluster.create();
    src = join(cluster.dir, 'vault');
    // The source is marked sensitive for compliance, but the cluster's dual control (TestCluster: sensitiveByDefault false) does not hold it: a failing control.
    const monitorConfig = join(cluster.dir, 'monitor.json');
    // compliance.watch: the leader evaluates the controls every intervalSeconds and alerts on failures.
    await writeFile(monitorConfig, JSON.stringify({ intervalSeconds: 2, sources: { [src]: { sensitive: true } }, compliance: { watch: true } }));
    await cluster.start('storage-gateway');
    await Promise.all([cluster.start('backup-engine'), cluster.start('monitoring', { TRESOR_MONITOR_CONFIG: monitorConfig, TRESOR_ALERTS_TICK_MS: '100' })]);
    server = (await cluster.start('gateway')).http;
    client = new TresorClient({ url: server, token: cluster.token! });
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${server}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, type: r.headers.get('content-type') ?? '', csp: r.headers.get('content-security-policy'), text: await r.text() };
  };
  const finding = (report: ComplianceReport, source: string, control: string): Finding => report.sources.find((s) => s.source === source)!.findings.find((f) => f.control === control)!;

  it('lists a raised alert through GET /v1/alerts (filters, pages) and tresor monitor alerts --server', async () => {
    const missing = join(cluster.dir, 'not-there');
    expect((await cluster.cli(['--server', server, 'backup', missing])).code).not.toBe(0);
    const alerts = await until('the backup-failed alert in the history', 60_000, async () => {
      const page = await client.alerts.list({ source: missing, rule: 'backup-failed' });
      return page.alerts.length > 0 ? page.alerts : undefined;
    });
    expect(alerts[0]).toMatchObject({ rule: 'backup-failed', level: 'CRITICAL', state: 'firing', source: missing });
    expect((await client.alerts.list({ source: missing, levels: ['INFO'] })).alerts).toEqual([]);
    expect((await client.alerts.list({ state: 'resolved', source: missing, rule: 'backup-failed' })).alerts).toEqual([]);
    // The watch's WARNING compliance alerts of the same source are there too, and the level filter tells them apart.
    const all = (await client.alerts.list({ source: missing })).alerts;
    expect(all.filter((a) => a.level === 'CRITICAL').map((a) => a.id)).toEqual([alerts[0]!.id]);
    const page = await client.alerts.list({ limit: 1 });
    expect(page.alerts).toHaveLength(1);
    expect(page.next).toBe(page.alerts[0]!.raisedAt);

    const json = await cluster.cli(['--server', server, 'monitor', 'alerts', '--state', 'firing', '--source', missing, '--level', 'CRITICAL', '--json']);
    expect(json.stderr).toBe('');
    expect((JSON.parse(json.stdout) as Alert[]).map((a) => a.id)).toEqual([alerts[0]!.id]);
    const text = await cluster.cli(['--server', server, 'monitor', 'alerts', '--level', 'CRITICAL']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/firing\s+CRITICAL\s+backup-failed/);
  }, 120_000);

  it('runs a drill through POST /v1/drills, lists it with its RTO, and the compliance report turns its restore-drill control from fail to pass', async () => {
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 4; i++) await writeFile(join(src, `k${i}.pem`), `key-${i}-`.repeat(200), { mode: 0o600 });
    const backup = await cluster.cli(['--server', server, 'backup', src, '--json']);
    expect(backup.stderr).toBe('');
    const { backupId } = JSON.parse(backup.stdout) as { backupId: string };

    const before = await client.compliance.report();
    expect(finding(before, src, 'restore-drill')).toMatchObject({ status: 'fail', summary: 'no successful restore drill' });
    expect(finding(before, src, 'encryption')).toMatchObject({ status: 'pass', evidence: { lastBackupId: backupId } });
    expect(finding(before, src, 'frequency')).toMatchObject({ status: 'pass', evidence: { lastBackupId: backupId } });
    expect(finding(before, src, 'dual-control')).toMatchObject({ status: 'fail', evidence: { sensitive: false } });
    expect(finding(before, src, 'schedule').status).toBe('fail');
    const audit = before.repository.find((f) => f.control === 'audit-chain')!;
    expect(audit.status).toBe('pass');
    expect(audit.evidence.entries).toBeGreaterThan(0);

    const firing = (rule: string) => client.alerts.list({ source: src, rule, state: 'firing' }).then((r) => r.alerts);
    await until('compliance-restore-drill raised by the watch', 60_000, async () => ((await firing('compliance-restore-drill')).length > 0 ? true : undefined));

    const run = await cluster.cli(['--server', server, 'drill', 'run', '--source', src, '--json']);
    expect(run.stderr).toBe('');
    const [drill] = JSON.parse(run.stdout) as DrillRecord[];
    expect(drill).toMatchObject({ source: src, backupId, ok: true, entriesVerified: 4, files: 4 });
    expect(drill!.rtoSeconds).toBeGreaterThan(0);

    const listed = await client.drills.list({ source: src, outcome: 'ok' });
    expect(listed.map((d) => [d.id, d.rtoSeconds])).toEqual([[drill!.id, drill!.rtoSeconds]]);
    expect(await client.drills.list({ source: src, outcome: 'failed' })).toEqual([]);
    const cliList = await cluster.cli(['--server', server, 'drill', 'list', '--source', src]);
    expect(cliList.stdout).toContain(backupId);
    expect(cliList.stdout).toMatch(/^ok\s/m);

    const after = await client.compliance.report();
    expect(finding(after, src, 'restore-drill')).toMatchObject({ status: 'pass', evidence: { drillId: drill!.id, backupId, rtoSeconds: drill!.rtoSeconds } });
    expect(after.totals.fail).toBe(before.totals.fail - 1);

    // The watch resolves the drill control's alert; dual control keeps failing, with its evidence.
    await until('compliance-restore-drill resolved', 60_000, async () => ((await firing('compliance-restore-drill')).length === 0 ? true : undefined));
    const resolved = (await client.alerts.list({ source: src, rule: 'compliance-restore-drill' })).alerts;
    expect(resolved.map((a) => [a.state, a.level])).toEqual([['resolved', 'WARNING']]);
    expect((await firing('compliance-dual-control')).map((a) => [a.level, a.details.sensitive])).toEqual([['WARNING', false]]);

    // The CLI exits 1 on a failed control (dual control here) and prints the report.
    const cli = await cluster.cli(['--server', server, 'compliance', 'report', '--format', 'json']);
    expect(cli.code).toBe(1);
    expect(finding(JSON.parse(cli.stdout) as ComplianceReport, src, 'restore-drill').evidence.drillId).toBe(drill!.id);
    const html = await call(cluster.token!, 'GET', '/v1/compliance/report?format=html');
    expect(html.status).toBe(200);
    expect(html.type).toContain('text/html');
    // Same origin as the console: the page may run no script (escaping aside).
    expect(html.csp).toMatch(/default-src 'none'.*; sandbox$/);
    expect(html.text).toContain(`restore drill of ${backupId} passed`);
    expect((await call(cluster.token!, 'GET', '/v1/compliance/report?format=pdf')).status).toBe(400);

    // Running a drill changes state: it is in the audit log under its permission.
    const entries = await client.audit.entries(1, 1000);
    expect(entries.entries.some((e) => e.action === 'drills:run' && e.outcome === 'success')).toBe(true);
  }, 240_000);

  it('keeps alerts, drills and the report from viewers; auditors read them but cannot run a drill', async () => {
    const viewer = (await client.tokens.create({ name: 'assurance-viewer', roles: ['viewer'] })).token;
    const auditor = (await client.tokens.create({ name: 'assurance-auditor', roles: ['auditor'] })).token;
    for (const [method, path] of [['GET', '/v1/alerts'], ['GET', '/v1/drills'], ['GET', '/v1/compliance/report'], ['POST', '/v1/drills']] as const) {
      expect((await call(viewer, method, path, method === 'POST' ? {} : undefined)).status, `viewer ${method} ${path}`).toBe(403);
    }
    expect((await call(auditor, 'GET', '/v1/alerts')).status).toBe(200);
    expect((await call(auditor, 'GET', '/v1/drills')).status).toBe(200);
    expect((await call(auditor, 'GET', '/v1/compliance/report')).status).toBe(200);
    expect((await call(auditor, 'POST', '/v1/drills', { source: src })).status).toBe(403);
    const denied = await cluster.cli(['--server', server, 'monitor', 'alerts'], { TRESOR_TOKEN: viewer });
    expect(denied.code).toBe(10);
    expect(denied.stderr).toMatch(/alerts:read/);
  }, 60_000);
});
