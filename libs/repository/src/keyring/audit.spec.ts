import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { initRepository } from '../init.js';
import { RepositoryAuditLog, repositoryAuditDir, verifyRepositoryAudit } from './audit.js';

async function repository(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tresor-repo-audit-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const repo = join(dir, 'repo');
  await initRepository(repo, { kek: { type: 'passphrase', passphrase: 'repository audit test passphrase', kdf: 'scrypt' } });
  return repo;
}

describe('RepositoryAuditLog', () => {
  it('moves a legacy keys.jsonl into the chain once, in order, and renames it', async () => {
    const repo = await repository();
    const legacy = join(repositoryAuditDir(repo), 'keys.jsonl');
    await mkdir(repositoryAuditDir(repo), { recursive: true });
    await writeFile(
      legacy,
      [
        { time: '2026-11-20T10:00:00.000Z', actor: 'carla', host: 'h1', pid: 1, action: 'keys.split', outcome: 'success', details: { shares: 5 } },
        { time: '2026-11-21T10:00:00.000Z', actor: 'colin', host: 'h1', pid: 2, action: 'recover', outcome: 'failure' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const log = await RepositoryAuditLog.open(repo);
    await log.record({ action: 'keys.check', outcome: 'success' });
    await RepositoryAuditLog.open(repo);

    const entries = (await readFile(join(repositoryAuditDir(repo), 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { seq: number; time: string; action: string; actor: { user: string }; outcome: string; details: Record<string, unknown> });
    expect(entries.map((e) => [e.seq, e.action, e.actor.user, e.outcome])).toEqual([
      [1, 'keys.split', 'carla', 'success'],
      [2, 'keys.recover', 'colin', 'failure'],
      [3, 'keys.check', expect.any(String), 'success'],
    ]);
    expect(entries[0]).toMatchObject({ time: '2026-11-20T10:00:00.000Z', details: { migratedFrom: 'keys.jsonl', shares: 5 } });
    await expect(access(legacy)).rejects.toThrow();
    await access(`${legacy}.migrated`);
    expect(await verifyRepositoryAudit(repo)).toMatchObject({ ok: true, entries: 3, checkpoints: 3, unprotectedEntries: 0 });
  });
});
