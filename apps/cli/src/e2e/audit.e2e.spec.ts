import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { AuditEntry } from '@tresor/contracts';
import { hashEntry } from '@tresor/audit-log';
import { startSyslogSink } from '../../../../test/support/sinks.js';
import { makeKeyTree, removeDir, tempDir, tresor } from './support.js';

let dir: string;
let source: string;
let base: string;

// One repository whose chain records init, two backups and a restore; each test works on a copy.
beforeAll(async () => {
  dir = await tempDir('tresor-audit-e2e-');
  source = join(dir, 'source');
  await makeKeyTree(source);
  base = join(dir, 'base');
  for (const args of [['init', '--kdf', 'scrypt'], ['backup', source], ['backup', source], ['restore', 'latest', '--target', join(dir, 'restored')]]) {
    const r = await tresor(['--repo', base, ...args]);
    if (r.code !== 0) throw new Error(`tresor ${args[0]} failed: ${r.stderr}`);
  }
});
afterAll(() => removeDir(dir));

async function auditedRepo(name: string): Promise<{ repo: string; file: string; lines: string[] }> {
  const repo = join(dir, name);
  await cp(base, repo, { recursive: true });
  const file = join(repo, 'audit', 'audit.jsonl');
  return { repo, file, lines: (await readFile(file, 'utf8')).trim().split('\n') };
}

describe('tresor audit', () => {
  it('records state-changing commands with the OS user, and verify passes on an untouched chain', async () => {
    const { repo, lines } = await auditedRepo('clean');
    const entries = lines.map((l) => JSON.parse(l) as AuditEntry);
    expect(entries.map((e) => `${e.action}:${e.details?.phase ?? '-'}`)).toEqual([
      'repository.init:-',
      'backup.create:started',
      'backup.create:finished',
      'backup.create:started',
      'backup.create:finished',
      'restore.run:started',
      'restore.run:finished',
    ]);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(entries[1]!.actor.user).toBe((await import('node:os')).userInfo().username);
    expect(entries[2]!.target).toBe(source);
    expect(entries[2]!.details).toMatchObject({ phase: 'finished', requestedLevel: 'incremental', level: 'full', files: expect.any(Number) });
    expect(entries[6]!.details).toMatchObject({ phase: 'finished', backup: 'latest', backupId: entries[4]!.details!.backupId });

    const verify = await tresor(['--repo', repo, 'audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok {6}7 entries, 7 signed checkpoints/);
    const json = await tresor(['--repo', repo, '--json', 'audit', 'verify']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, entries: 7, lastSeq: 7, lastCheckpointSeq: 7, unprotectedEntries: 0 });
  });

  it('verify exits 5 naming the entry that was edited, deleted, inserted or swapped in the file', async () => {
    const { repo, file, lines } = await auditedRepo('tampered');
    const entry = (i: number) => JSON.parse(lines[i]!) as AuditEntry;
    const forged = { ...entry(3), seq: 5, id: 'forged', action: 'keys.destroy', prevHash: entry(3).hash };
    const cases: [string, string[], RegExp][] = [
      ['edited', lines.map((l, i) => (i === 2 ? l.replace('"outcome":"success"', '"outcome":"failure"') : l)), /entry 3: edited/],
      ['deleted', lines.filter((_, i) => i !== 3), /entry 4: deleted/],
      ['inserted', [...lines.slice(0, 4), JSON.stringify({ ...forged, hash: hashEntry(forged) }), ...lines.slice(4)], /entry 5: inserted/],
      ['swapped', [...lines.slice(0, 4), lines[5]!, lines[4]!, ...lines.slice(6)], /entry 6: reordered/],
    ];
    for (const [what, tampered, expected] of cases) {
      await writeFile(file, `${tampered.join('\n')}\n`);
      const r = await tresor(['--repo', repo, 'audit', 'verify']);
      expect(r.code, what).toBe(5);
      expect(r.stdout, what).toMatch(expected);
      expect(r.stderr, what).toMatch(/^tresor: audit log verification failed: /);
    }
    await writeFile(file, `${lines.join('\n')}\n`);
    expect((await tresor(['--repo', repo, 'audit', 'verify'])).code).toBe(0);

    const checkpoints = join(repo, 'audit', 'checkpoints.jsonl');
    const original = await readFile(checkpoints, 'utf8');
    await writeFile(checkpoints, original.replace(/"signature":"(.)/, (_m, c: string) => `"signature":"${c === 'A' ? 'B' : 'A'}`));
    const bad = await tresor(['--repo', repo, 'audit', 'verify']);
    expect(bad.code).toBe(5);
    expect(bad.stdout).toMatch(/entry 1: bad-checkpoint-signature/);
  });

  it('a command whose audit entry cannot be written does not run', async () => {
    const { repo, file } = await auditedRepo('blocked');
    const before = await readFile(file, 'utf8');
    await writeFile(file, `${before}{"damaged":\n`);
    const r = await tresor(['--repo', repo, 'backup', source]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/audit log .* ends with a damaged entry/);
    const list = await tresor(['--repo', repo, '--json', 'list']);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(2);
  });

  it('exports the chain as JSON lines and to a syslog receiver', async () => {
    const { repo, lines } = await auditedRepo('export');
    const jsonl = await tresor(['--repo', repo, 'audit', 'export']);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    expect(jsonl.stdout.trim().split('\n')).toEqual(lines);

    const sink = await startSyslogSink('tcp');
    onTestFinished(() => sink.close());
    const sent = await tresor(['--repo', repo, 'audit', 'export', '--format', 'syslog', '--syslog-url', `tcp://127.0.0.1:${sink.port}`, '--from', '3']);
    expect(sent.code, sent.stderr).toBe(0);
    const got = await sink.waitForMessages(5);
    expect(got.map((m) => m.pri)).toEqual([86, 86, 86, 86, 86]);
    expect(got[0]!.raw).toMatch(/^<86>1 \S+ \S+ tresor-audit \d+ backup\.create \[tresorAudit@32473 seq="3" /);

    const usage = await tresor(['--repo', repo, 'audit', 'export', '--format', 'syslog']);
    expect(usage.code).toBe(2);
  });
});
