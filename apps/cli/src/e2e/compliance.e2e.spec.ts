import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpSink, type HttpSink } from '../../../../test/support/sinks.js';
import { makeKeyTree, removeDir, tempDir, tresor } from './support.js';

interface Finding {
  control: string;
  status: string;
  summary: string;
  evidence: Record<string, string | number | boolean>;
}
interface Report {
  totals: Record<string, number>;
  repository: Finding[];
  sources: { source: string; findings: Finding[] }[];
}

/** `tresor compliance report` on a real repository: each control passing on one source and failing on another. */
describe('tresor compliance report', () => {
  let dir: string;
  let repo: string;
  let good: string;
  let bad: string;
  let sink: HttpSink;
  const env = { TRESOR_TEST_HMAC: 'compliance-e2e' };
  const report = async (extra: string[] = []) => {
    const r = await tresor(['--repo', repo, 'compliance', 'report', '--format', 'json', ...extra], env);
    return { code: r.code, stderr: r.stderr, report: JSON.parse(r.stdout) as Report };
  };
  const finding = (r: Report, source: string, control: string) => r.sources.find((s) => s.source === source)!.findings.find((f) => f.control === control)!;
  const monitorConfig = (compliance: Record<string, unknown> = {}) =>
    writeFile(
      join(repo, 'monitor.json'),
      JSON.stringify({
        sources: { [bad]: { immutable: true, sensitive: true } },
        compliance,
        alerts: { groupWindowMs: 0, channels: { hook: { type: 'webhook', url: `${sink.url}/alerts`, secret: { env: 'TRESOR_TEST_HMAC' }, attempts: 1 } }, routes: [{ levels: ['WARNING', 'CRITICAL'], channels: ['hook'] }] },
      }),
    );

  beforeAll(async () => {
    sink = await startHttpSink();
    dir = await tempDir();
    repo = join(dir, 'repo');
    good = join(dir, 'good');
    bad = join(dir, 'bad');
    await makeKeyTree(good);
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'x.key'), 'x'.repeat(100), { mode: 0o600 });
    for (const args of [['init'], ['backup', good], ['backup', bad]]) expect((await tresor(['--repo', repo, ...args])).stderr).toBe('');
    // good: hourly; bad: weekly (too rare for the 26 h maximum).
    await writeFile(join(repo, 'schedules.json'), JSON.stringify({ schedules: [{ id: 'good-hourly', source: good, cron: '0 * * * *' }, { id: 'bad-weekly', source: bad, cron: '0 3 * * 0' }] }));
    // good: 60 daily backups; bad: only the last 3 (no time-based history at all).
    const cfgFile = join(repo, 'tresor.json');
    const cfg = JSON.parse(await readFile(cfgFile, 'utf8')) as Record<string, unknown>;
    await writeFile(cfgFile, JSON.stringify({ ...cfg, retention: { default: { keepDaily: 60 }, sources: { [bad]: { keepLast: 3 } } } }, null, 2));
    await monitorConfig();
    expect((await tresor(['--repo', repo, 'drill', 'run', '--source', good], env)).stderr).toBe('');
  }, 180_000);
  afterAll(async () => {
    await sink?.close();
    await removeDir(dir);
  });

  it('passes each control on the well-kept source and fails it on the neglected one, with evidence', async () => {
    const { code, stderr, report: r } = await report();
    expect(code).toBe(1);
    expect(stderr).toMatch(/control\(s\) failed/);
    const drill = finding(r, good, 'restore-drill');
    expect(drill.status).toBe('pass');
    expect(drill.evidence).toMatchObject({ drillId: expect.any(String), backupId: expect.any(String), rtoSeconds: expect.any(Number) });
    expect(finding(r, bad, 'restore-drill')).toMatchObject({ status: 'fail', summary: 'no successful restore drill' });

    expect(finding(r, good, 'schedule')).toMatchObject({ status: 'pass', evidence: { scheduleId: 'good-hourly', cron: '0 * * * *' } });
    expect(finding(r, good, 'frequency')).toMatchObject({ status: 'pass', evidence: { scheduleIntervalHours: 1, lastBackupId: expect.any(String) } });
    expect(finding(r, bad, 'frequency')).toMatchObject({ status: 'fail', evidence: { scheduleIntervalHours: 168 } });

    expect(finding(r, good, 'retention')).toMatchObject({ status: 'pass', evidence: { keptDays: 60 } });
    expect(finding(r, bad, 'retention')).toMatchObject({ status: 'fail', evidence: { keptDays: 0, minRetentionDays: 30 } });

    expect(finding(r, good, 'encryption')).toMatchObject({ status: 'pass', evidence: { kek: 'passphrase' } });
    expect(finding(r, good, 'immutability').status).toBe('not-applicable');
    expect(finding(r, bad, 'immutability')).toMatchObject({ status: 'fail', evidence: { lastBackupId: expect.any(String) } });
    expect(finding(r, good, 'dual-control').status).toBe('not-applicable');
    expect(finding(r, bad, 'dual-control')).toMatchObject({ status: 'not-evaluated' });

    const audit = r.repository.find((f) => f.control === 'audit-chain')!;
    expect(audit.status).toBe('pass');
    expect(audit.evidence.entries).toBeGreaterThan(0);
    expect(r.repository.find((f) => f.control === 'kek-cryptoperiod')).toMatchObject({ status: 'pass', evidence: { v1: expect.stringMatching(/rotate by/) } });
    expect(r.totals.fail).toBe(4);

    // Failed controls are alerted (WARNING) with their source.
    const alerts = sink.requests.flatMap((q) => (q.json as { alerts: { rule: string; source?: string; kind: string }[] }).alerts);
    expect(alerts.filter((a) => a.source === bad).map((a) => a.rule).sort()).toEqual(['compliance-frequency', 'compliance-immutability', 'compliance-restore-drill', 'compliance-retention']);
  }, 180_000);

  it('fails the schedule control when no schedule covers a source, and frequency when the last backup is too old', async () => {
    await monitorConfig({ scheduleFile: join(dir, 'missing.json'), maxIntervalHours: 1 / 3600 });
    await new Promise((r) => setTimeout(r, 1500));
    const { report: r } = await report();
    expect(finding(r, good, 'schedule')).toMatchObject({ status: 'fail', evidence: { problem: expect.stringMatching(/missing\.json/) } });
    expect(finding(r, good, 'frequency')).toMatchObject({ status: 'fail', summary: expect.stringMatching(/^last backup .* h ago, more than/) });
    expect(finding(r, good, 'restore-drill').status).toBe('pass');
    await monitorConfig({ drillWithinDays: 1 / 86400 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(finding((await report()).report, good, 'restore-drill')).toMatchObject({ status: 'fail', summary: expect.stringMatching(/more than/) });
    await monitorConfig();
  }, 180_000);

  it('evaluates every active KEK version after a rotation, and fails a tampered audit chain', async () => {
    const rotate = await tresor(['--repo', repo, 'keys', 'rotate', '--new-passphrase-env', 'NEW_PASS', '--kdf', 'scrypt', '--cryptoperiod-days', '365'], { NEW_PASS: 'compliance new passphrase 7' });
    expect(rotate.stderr).toBe('');
    const { report: r } = await report();
    expect(r.repository.find((f) => f.control === 'kek-cryptoperiod')).toMatchObject({ status: 'pass', evidence: { v2: expect.stringMatching(/rotate by/) } });

    const auditDir = join(repo, 'audit');
    const file = join(auditDir, (await readdir(auditDir)).filter((f) => f.endsWith('.jsonl')).sort()[0]!);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    lines[0] = lines[0]!.replace('"success"', '"failure"');
    await writeFile(file, `${lines.join('\n')}\n`);
    const audit = (await report()).report.repository.find((f) => f.control === 'audit-chain')!;
    expect(audit).toMatchObject({ status: 'fail', evidence: { problemSeq: expect.any(Number) } });
  }, 180_000);

  it('renders HTML with every finding, escaped', async () => {
    const out = join(dir, 'report.html');
    const r = await tresor(['--repo', repo, 'compliance', 'report', '--format', 'html', '--output', out], env);
    expect(r.code).toBe(1);
    const html = await readFile(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<td>restore-drill</td><td>pass</td>');
    expect(html).toContain(`<td>${bad}</td><td>retention</td><td>fail</td>`);
    expect(html).not.toMatch(/<script/);
  }, 120_000);
});
