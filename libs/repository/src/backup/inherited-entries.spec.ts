import { chmod, mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry, InheritedRun } from '@tresor/archive';
import type { EntryTableSummary } from '@tresor/catalog';
import { UsageError } from '@tresor/errors';
import { FilesystemSource } from '@tresor/source';
import { ArchiveSet } from '../archives.js';
import { initRepository } from '../init.js';
import { loadManifest } from '../manifests.js';
import { Repository } from '../repository.js';
import { runBackup } from './backup.service.js';

const PASSPHRASE = 'inherited entries passphrase';

/**
 * A backup's unchanged entries reach the SQLite catalog as runs copied from the parent's rows
 * (issue 9). Whatever the changes, the catalog must hold exactly the archive's entry table.
 */
describe('entries inherited from the parent backup', () => {
  let dir: string;
  let source: string;
  let repo: Repository;
  /** Lines each backup's staging was told it inherits, per backup id. */
  const inheritedLines = new Map<string, number>();
  /** The table each backup's staging was prepared with, per backup id. */
  const preparedTables = new Map<string, EntryTableSummary>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-inherit-'));
    source = join(dir, 'keys');
    for (const folder of ['d1', 'd2', 'd3']) {
      await mkdir(join(source, folder), { recursive: true });
      for (let i = 0; i < 30; i++) await writeFile(join(source, folder, `k${String(i).padStart(2, '0')}.pem`), `${folder} key ${i}`);
    }
    await symlink('d1/k00.pem', join(source, 'current.pem'));
    const repoDir = join(dir, 'repo');
    await initRepository(repoDir, { kek: { type: 'passphrase', passphrase: PASSPHRASE, kdf: 'scrypt' } });
    repo = await Repository.open(repoDir, {
      passphrase: async () => PASSPHRASE,
      identityPem: async () => {
        throw new UsageError('no identity in this test');
      },
    });
    const stageBackup = repo.catalog.stageBackup!.bind(repo.catalog);
    repo.catalog.stageBackup = (backupId, inheritFrom) => {
      const staging = stageBackup(backupId, inheritFrom)!;
      inheritedLines.set(backupId, 0);
      return {
        ...staging,
        add: (lines: Uint8Array, runs?: readonly InheritedRun[]) => {
          inheritedLines.set(backupId, inheritedLines.get(backupId)! + (runs ?? []).reduce((n, r) => n + r.count, 0));
          return staging.add(lines, runs);
        },
        prepare: (table: EntryTableSummary) => {
          preparedTables.set(backupId, table);
          staging.prepare(table);
        },
      };
    };
  });
  afterAll(async () => {
    await repo.close();
    await rm(dir, { recursive: true, force: true });
  });

  const catalogEntries = async (backupId: string): Promise<Entry[]> => {
    const found: Entry[] = [];
    for await (const entry of repo.catalog.entries(backupId)) found.push(entry);
    return found;
  };
  const archiveEntries = async (backupId: string): Promise<Entry[]> => {
    const found: Entry[] = [];
    for await (const entry of (await new ArchiveSet(repo).open(backupId)).entries()) found.push(entry);
    return found;
  };
  const backup = () => runBackup(repo, new FilesystemSource(source), { level: 'incremental' });

  it('copies unchanged runs and indexes the rest: the catalog holds the archive table, change or no change', async () => {
    const full = await backup();
    expect(inheritedLines.get(full.backupId)).toBe(0);
    const entryCount = 1 + 3 * 31;
    // The catalog got the table to put in place before the commit: the one the manifest signs.
    const { manifest } = await loadManifest(repo, full.backupId);
    expect(manifest.entryCount).toBe(entryCount);
    expect(preparedTables.get(full.backupId)).toEqual({ entryCount, entriesRoot: manifest.entriesRoot });

    const same = await backup();
    expect(inheritedLines.get(same.backupId)).toBe(entryCount);
    expect(await catalogEntries(same.backupId)).toEqual(await archiveEntries(same.backupId));

    // A changed and a new file in d1, a file deleted between two unchanged ones in d2 (the runs
    // must break there: the parent has a row between them), a new mode in d3. d1 and d2 get new mtimes.
    await writeFile(join(source, 'd1', 'k10.pem'), 'd1 key 10, rotated');
    await writeFile(join(source, 'd1', 'k30.pem'), 'new key');
    await unlink(join(source, 'd2', 'k15.pem'));
    await chmod(join(source, 'd3', 'k20.pem'), 0o400);
    const changed = await backup();
    const entries = await archiveEntries(changed.backupId);
    expect(entries).toHaveLength(entryCount);
    expect(entries.map((e) => e.path)).not.toContain('d2/k15.pem');
    expect(inheritedLines.get(changed.backupId)).toBe(entryCount - 5);
    expect(await catalogEntries(changed.backupId)).toEqual(entries);
    expect((entries.find((e) => e.path === 'd3/k20.pem')?.mode ?? 0) & 0o777).toBe(0o400);

    const after = await backup();
    expect(inheritedLines.get(after.backupId)).toBe(entryCount);
    expect(await catalogEntries(after.backupId)).toEqual(await archiveEntries(after.backupId));
  });
});
