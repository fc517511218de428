import { spawn, execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:tls';
import type { Server } from 'node:tls';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpSink, type HttpSink } from '../../../../test/support/sinks.js';
import { makeKeyTree, PASSPHRASE, removeDir, tempDir, tresor } from './support.js';

const BIN = resolve(fileURLToPath(import.meta.url), '../../../../../bin/tresor.mjs');
const HMAC = 'monitor-drill-e2e-hmac';

interface Delivered {
  kind: string;
  rule: string;
  level: string;
  source?: string;
  key?: string;
  summary: string;
}
interface CheckJson {
  status: string;
  checks: { check: string; target: string; status: string; summary: string; details: Record<string, unknown> }[];
}
interface DrillJson {
  source: string;
  backupId: string;
  ok: boolean;
  rtoSeconds: number;
  files: number;
  entriesVerified: number;
  problem?: string;
}

/** A self-signed certificate valid for `days` days (openssl), served by a TLS server on a free port. */
async function tlsServer(dir: string, days: number): Promise<{ server: Server; port: number }> {
  const key = join(dir, `tls-${days}.key`);
  const cert = join(dir, `tls-${days}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', String(days), '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const server = createServer({ key: await readFile(key), cert: await readFile(cert) }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** Health checks, restore drills and their alerts on a real standalone repository, alerts to a real HTTP receiver. */
describe('tresor monitor check / drill run / monitor start', () => {
  let dir: string;
  let repo: string;
  let src: string;
  let scratch: string;
  let sink: HttpSink;
  const servers: Server[] = [];
  const env = () => ({ TRESOR_TEST_HMAC: HMAC, TMPDIR: scratch });
  // Only the drills' scratch directories: tsx keeps its own cache under TMPDIR too.
  const drillScratch = async () => (await readdir(scratch)).filter((n) => n.startsWith('tresor-drill-'));
  const delivered = (): Delivered[] => sink.requests.flatMap((r) => (r.json as { alerts: Delivered[] }).alerts);
  const writeConfig = (extra: Record<string, unknown> = {}) =>
    writeFile(
      join(repo, 'monitor.json'),
      JSON.stringify({
        alerts: {
          // No batching window: the daemon test stops right after the drill and its resolve must go out.
          groupWindowMs: 0,
          channels: { hook: { type: 'webhook', url: `${sink.url}/alerts`, secret: { env: 'TRESOR_TEST_HMAC' }, attempts: 1 } },
          routes: [{ levels: ['WARNING', 'CRITICAL'], channels: ['hook'] }],
        },
        ...extra,
      }),
    );

  beforeAll(async () => {
    sink = await startHttpSink();
    dir = await tempDir();
    repo = join(dir, 'repo');
    src = join(dir, 'keys');
    scratch = join(dir, 'scratch');
    await makeKeyTree(src);
    execFileSync('mkdir', ['-p', scratch]);
    expect((await tresor(['--repo', repo, 'init'])).code).toBe(0);
    const b = await tresor(['--repo', repo, 'backup', src]);
    expect(b.stderr).toBe('');
    await writeConfig();
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) s.close();
    await sink?.close();
    await removeDir(dir);
  });

  it('passes every check on a fresh repository and exits 0', async () => {
    const r = await tresor(['--repo', repo, 'monitor', 'check', '--json'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as CheckJson;
    expect(out.status).toBe('ok');
    const storage = out.checks.find((c) => c.check === 'storage')!;
    expect(storage).toMatchObject({ target: 'local', status: 'ok' });
    expect(storage.details.usedPercent).toBeGreaterThan(0);
    expect(storage.details.latencyMs).toBeGreaterThanOrEqual(0);
    expect(out.checks.find((c) => c.check === 'freshness')).toMatchObject({ target: src, status: 'ok' });
    expect(out.checks.find((c) => c.check === 'key-provider')?.status).toBe('ok');
    expect(sink.requests).toHaveLength(0);
  }, 120_000);

  it('goes CRITICAL (exit 1) past the storage threshold and stale backups, alerts once, and resolves when they pass', async () => {
    // RPO of 1 s: the backup taken above is older than twice that by now.
    await writeConfig({ storage: { warningPercent: 0, criticalPercent: 0.001 }, freshness: { rpoHours: 1 / 3600 } });
    await new Promise((r) => setTimeout(r, 2500));
    const r = await tresor(['--repo', repo, 'monitor', 'check', '--json'], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CRITICAL/);
    const out = JSON.parse(r.stdout) as CheckJson;
    expect(out.status).toBe('critical');
    expect(out.checks.find((c) => c.check === 'storage')?.status).toBe('critical');
    expect(out.checks.find((c) => c.check === 'freshness')).toMatchObject({ status: 'critical', target: src });
    expect(delivered()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'raised', rule: 'check-storage', level: 'CRITICAL', key: 'local' }),
        expect.objectContaining({ kind: 'raised', rule: 'check-freshness', level: 'CRITICAL', source: src }),
      ]),
    );
    const raised = delivered().length;
    // Still failing: de-duplicated across runs through the history, nothing new is sent.
    expect((await tresor(['--repo', repo, 'monitor', 'check'], env())).code).toBe(1);
    expect(delivered()).toHaveLength(raised);

    await writeConfig();
    const ok = await tresor(['--repo', repo, 'monitor', 'check'], env());
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/OK\s+storage\s+local/);
    expect(delivered().slice(raised).map((a) => [a.kind, a.rule]).sort()).toEqual([
      ['resolved', 'check-freshness'],
      ['resolved', 'check-storage'],
    ]);
    const alerts = await tresor(['--repo', repo, 'monitor', 'alerts', '--json']);
    expect((JSON.parse(alerts.stdout) as { rule: string; state: string }[]).filter((a) => a.rule.startsWith('check-')).map((a) => a.state)).toEqual(['resolved', 'resolved']);
  }, 180_000);

  it('checks certificate expiry of TLS endpoints: WARNING within 30 days, CRITICAL within 7', async () => {
    const soon = await tlsServer(dir, 3);
    const later = await tlsServer(dir, 20);
    const fine = await tlsServer(dir, 400);
    servers.push(soon.server, later.server, fine.server);
    const ports = [soon.port, later.port, fine.port];
    await writeFile(join(repo, 'tls-only.json'), JSON.stringify({ tls: { endpoints: ports.map((port) => ({ host: '127.0.0.1', port, servername: 'localhost' })) } }));
    const r = await tresor(['--repo', repo, 'monitor', 'check', '--json', '--config', join(repo, 'tls-only.json')], env());
    const certs = (JSON.parse(r.stdout) as CheckJson).checks.filter((c) => c.check === 'certificate');
    expect(certs.map((c) => [c.target, c.status])).toEqual([
      [`127.0.0.1:${soon.port}`, 'critical'],
      [`127.0.0.1:${later.port}`, 'warning'],
      [`127.0.0.1:${fine.port}`, 'ok'],
    ]);
    expect(certs[0]!.details.daysLeft).toBeLessThanOrEqual(3);
    expect(r.code).toBe(1);
  }, 120_000);

  it('drill run restores into scratch space, verifies every entry, records the RTO and leaves no scratch data', async () => {
    const r = await tresor(['--repo', repo, 'drill', 'run', '--json'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [drill] = JSON.parse(r.stdout) as DrillJson[];
    expect(drill).toMatchObject({ source: src, ok: true });
    expect(drill!.rtoSeconds).toBeGreaterThan(0);
    expect(drill!.files).toBeGreaterThan(5);
    expect(drill!.entriesVerified).toBeGreaterThan(5);
    expect(await drillScratch()).toEqual([]);
    const recorded = (await readFile(join(repo, 'drills.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as DrillJson);
    expect(recorded.at(-1)).toMatchObject({ backupId: drill!.backupId, ok: true, rtoSeconds: drill!.rtoSeconds });
    const check = JSON.parse((await tresor(['--repo', repo, 'monitor', 'check', '--json'], env())).stdout) as CheckJson;
    expect(check.checks.find((c) => c.check === 'verify')).toMatchObject({ target: src, status: 'ok' });
  }, 180_000);

  it('drill run --random-within picks a random backup of the window; monitor status summarises the checks', async () => {
    const r = await tresor(['--repo', repo, 'drill', 'run', '--random-within', '7d', '--json'], env());
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ source: src, ok: true })]);
    const recorded = (await readFile(join(repo, 'drills.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { pick: string });
    expect(recorded.at(-1)!.pick).toBe('random');
    expect((await tresor(['--repo', repo, 'drill', 'run', '--random-within', 'soon'], env())).code).toBe(2);

    const status = await tresor(['--repo', repo, 'monitor', 'status', '--json'], env());
    expect(status.code).toBe(0);
    const out = JSON.parse(status.stdout) as { status: string; checks: { check: string; status: string; targets: number }[] };
    expect(out.status).toBe('ok');
    expect(out.checks.map((c) => c.check).sort()).toEqual(['freshness', 'kek-cryptoperiod', 'key-provider', 'storage', 'verify']);
    const text = await tresor(['--repo', repo, 'monitor', 'status'], env());
    expect(text.stdout).toMatch(/^status: OK\nCHECK\s+STATUS\s+TARGETS\s+FAILING\n/);
  }, 180_000);

  it('refuses a monitor.json with unknown keys or bad values, naming the file and path', async () => {
    const bad = join(dir, 'bad-monitor.json');
    await writeFile(bad, JSON.stringify({ storage: { warningPercent: 120 } }));
    const r = await tresor(['--repo', repo, 'monitor', 'check', '--config', bad], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-monitor\.json: storage\.warningPercent: /);
    await writeFile(bad, JSON.stringify({ freshnes: {} }));
    expect((await tresor(['--repo', repo, 'monitor', 'check', '--config', bad], env())).stderr).toMatch(/bad-monitor\.json: .*freshnes/);
  }, 120_000);

  it('a drill over a corrupted archive fails and raises a CRITICAL alert delivered to the webhook', async () => {
    const list = JSON.parse((await tresor(['--repo', repo, 'list', '--json'])).stdout) as { id: string }[];
    const archive = join(repo, 'objects', 'archives', `${list[0]!.id}.tra`);
    const original = await readFile(archive);
    const bytes = Buffer.from(original);
    bytes[bytes.length - 40] = bytes[bytes.length - 40]! ^ 0x01;
    await writeFile(archive, bytes);
    try {
      const before = delivered().length;
      const r = await tresor(['--repo', repo, 'drill', 'run', '--source', src], env());
      expect(r.code).toBe(5);
      expect(r.stdout).toMatch(/FAILED/);
      expect(r.stderr).toMatch(/restore drill\(s\) failed/);
      expect(delivered().slice(before)).toEqual([expect.objectContaining({ kind: 'raised', rule: 'restore-drill-failed', level: 'CRITICAL', source: src })]);
      expect(await drillScratch()).toEqual([]);
      // drill list reads drills.jsonl back, newest first, filtered by outcome.
      const failed = JSON.parse((await tresor(['--repo', repo, 'drill', 'list', '--outcome', 'failed', '--json'])).stdout) as DrillJson[];
      expect(failed.map((d) => [d.source, d.ok])).toEqual([[src, false]]);
      const ok = JSON.parse((await tresor(['--repo', repo, 'drill', 'list', '--outcome', 'ok', '--limit', '1', '--json'])).stdout) as DrillJson[];
      expect(ok.map((d) => d.ok)).toEqual([true]);
      const table = await tresor(['--repo', repo, 'drill', 'list']);
      expect(table.stdout).toMatch(/^RESULT\s+FINISHED\s+SOURCE\s+BACKUP\s+RTO/);
      expect(table.stdout.split('\n')[1]).toMatch(/^FAILED\s/);
      expect((await tresor(['--repo', repo, 'drill', 'list', '--outcome', 'maybe'])).stderr).toBe("tresor: --outcome 'maybe': expected ok or failed\n");
      const check = JSON.parse((await tresor(['--repo', repo, 'monitor', 'check', '--json'], env())).stdout) as CheckJson;
      expect(check.checks.find((c) => c.check === 'verify')).toMatchObject({ target: src, status: 'critical' });
    } finally {
      await writeFile(archive, original);
    }
  }, 180_000);

  it('monitor start runs drills on their schedule, records their RTO, resolves the failed drill, and stops on SIGTERM', async () => {
    await writeConfig({ intervalSeconds: 3600, drills: { schedule: '*/2 * * * * *' } });
    const before = (await readFile(join(repo, 'drills.jsonl'), 'utf8')).trim().split('\n').length;
    const sent = delivered().length;
    const child = spawn(process.execPath, [BIN, '--repo', repo, 'monitor', 'start'], { env: { ...process.env, TRESOR_PASSPHRASE: PASSPHRASE, TRESOR_REPO: undefined, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdout.on('data', (d: Buffer) => lines.push(...d.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)));
    const deadline = Date.now() + 120_000;
    while (!lines.some((l) => l.event === 'drill') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(lines[0]).toMatchObject({ event: 'started', drills: '*/2 * * * * *' });
    expect(lines.find((l) => l.event === 'drill')).toMatchObject({ source: src, ok: true });
    expect(lines.at(-1)).toMatchObject({ event: 'stopped' });
    const recorded = (await readFile(join(repo, 'drills.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as DrillJson);
    expect(recorded.length).toBeGreaterThan(before);
    expect(recorded.at(-1)!.rtoSeconds).toBeGreaterThan(0);
    // The drill that failed in the previous test is resolved by this passing one.
    expect(delivered().slice(sent)).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'resolved', rule: 'restore-drill-failed', source: src })]));
  }, 180_000);
});
