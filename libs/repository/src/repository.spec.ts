import { mkdtemp, mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ArchiveReader } from '@tresor/archive';
import { IntegrityError, NotFoundError, UsageError, WrongKeyError } from '@tresor/errors';
import { FilesystemSource } from '@tresor/source';
import type { Source, SourceEntry } from '@tresor/source';
import { chooseParent } from './backup/parent.js';
import { runBackup } from './backup/backup.service.js';
import { initRepository } from './init.js';
import type { KeySupplier } from './keys.js';
import { localPaths, REPOSITORY_OBJECT } from './layout.js';
import { Repository } from './repository.js';
import { runRestore } from './restore/restore.service.js';
import { selectBackup } from './select.js';
import { ContentChecker } from './verify/content-checker.js';
import { verifyBackup, VerifyRun } from './verify/verify.service.js';

const PASSPHRASE = 'unit test passphrase';
const supplier = (passphrase = PASSPHRASE): KeySupplier => ({
  passphrase: async () => passphrase,
  identityPem: async () => {
    throw new UsageError('no identity in this test');
  },
});

describe('Repository', () => {
  let dir: string;
  let source: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-repository-'));
    source = join(dir, 'keys');
    await mkdir(join(source, 'app'), { recursive: true });
    await writeFile(join(source, 'app', 'a.key'), 'alpha');
    await writeFile(join(source, 'app', 'b.key'), 'bravo');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const init = async (name: string) => {
    const repoDir = join(dir, name);
    await initRepository(repoDir, { kek: { type: 'passphrase', passphrase: PASSPHRASE, kdf: 'scrypt' } });
    return repoDir;
  };

  it('backs up, selects and restores in-process, and verifies deep', async () => {
    const repo = await Repository.open(await init('basic'), supplier());
    try {
      const full = await runBackup(repo, new FilesystemSource(source), { level: 'incremental' });
      expect(full.level).toBe('full');
      expect(full.files).toBe(2);
      const again = await runBackup(repo, new FilesystemSource(source), { level: 'incremental' });
      expect(again).toMatchObject({ level: 'incremental', parentId: full.backupId, reusedFiles: 2, bytesStored: 0 });

      const latest = await selectBackup(repo.catalog, { id: 'latest' });
      expect(latest.id).toBe(again.backupId);
      // Two backups in the same second share up to 17 characters and, 1 time in 16, the 18th.
      expect((await selectBackup(repo.catalog, { id: full.backupId.slice(0, -1) })).id).toBe(full.backupId);

      const target = join(dir, 'basic-restored');
      const restored = await runRestore(repo, latest, { target, include: ['a.key'] });
      expect(restored.paths).toEqual(['app/a.key']);
      expect(await readFile(join(target, 'app', 'a.key'), 'utf8')).toBe('alpha');

      const report = await verifyBackup(repo, latest, { deep: true });
      expect(report).toMatchObject({ ok: true, deep: true, entriesChecked: 3 });
    } finally {
      await repo.close();
    }
  });

  it('checks content shared by incrementals once per verify run, and each backup on its own without one', async () => {
    const repo = await Repository.open(await init('verify-run'), supplier());
    const reads = vi.spyOn(ArchiveReader.prototype, 'readSmallCompressed');
    const parsed = vi.spyOn(ArchiveReader.prototype, 'parseEntryLine');
    try {
      await runBackup(repo, new FilesystemSource(source), { level: 'full' });
      await runBackup(repo, new FilesystemSource(source), { level: 'incremental' });
      const backups = await repo.catalog.listBackups();
      expect(backups).toHaveLength(2);

      const run = new VerifyRun(repo);
      const counts: number[][] = [];
      for (const backup of backups) {
        reads.mockClear();
        parsed.mockClear();
        expect(await verifyBackup(repo, backup, { deep: true, run })).toMatchObject({ ok: true, entriesChecked: 3 });
        counts.push([reads.mock.calls.length, parsed.mock.calls.length]);
      }
      // The no-change backup's table repeats the full one's lines byte for byte: none is parsed again.
      expect(counts).toEqual([
        [2, 3],
        [0, 0],
      ]);

      reads.mockClear();
      parsed.mockClear();
      expect(await verifyBackup(repo, backups[1]!, { deep: true })).toMatchObject({ ok: true, entriesChecked: 3 });
      expect([reads.mock.calls.length, parsed.mock.calls.length]).toEqual([2, 3]);
    } finally {
      reads.mockRestore();
      parsed.mockRestore();
      await repo.close();
    }
  });

  it('reports a content that fails its check for every backup of the run that names it', async () => {
    const repo = await Repository.open(await init('verify-run-bad'), supplier());
    const original = ContentChecker.prototype.add;
    // What a damaged stored content gives: the check of app/a.key fails, whichever backup asks.
    const add = vi.spyOn(ContentChecker.prototype, 'add').mockImplementation(async function (this: ContentChecker, entry, line) {
      if (entry.path === 'app/a.key') throw new IntegrityError(`entry ${entry.path}: content does not match its recorded SHA-256`);
      return original.call(this, entry, line);
    });
    try {
      await runBackup(repo, new FilesystemSource(source), { level: 'full' });
      await runBackup(repo, new FilesystemSource(source), { level: 'incremental' });
      const run = new VerifyRun(repo);
      const reports = [];
      for (const backup of await repo.catalog.listBackups()) reports.push(await verifyBackup(repo, backup, { deep: true, run }));
      expect(reports.map((r) => [r.ok, r.problem])).toEqual([
        [false, 'entry app/a.key: content does not match its recorded SHA-256'],
        [false, 'entry app/a.key: content does not match its recorded SHA-256'],
      ]);
    } finally {
      add.mockRestore();
      await repo.close();
    }
  });

  it('chooses the parent by level and falls back to full without one', async () => {
    const repo = await Repository.open(await init('levels'), supplier());
    try {
      const sourceRecord = await repo.catalog.ensureSource('filesystem', source);
      expect(await chooseParent(repo.catalog, sourceRecord.id, 'differential')).toEqual({ level: 'full' });
      const full = await runBackup(repo, new FilesystemSource(source), { level: 'full' });
      const inc = await runBackup(repo, new FilesystemSource(source), { level: 'incremental' });
      expect((await chooseParent(repo.catalog, sourceRecord.id, 'incremental')).parent?.id).toBe(inc.backupId);
      expect((await chooseParent(repo.catalog, sourceRecord.id, 'differential')).parent?.id).toBe(full.backupId);
      expect(await chooseParent(repo.catalog, sourceRecord.id, 'full')).toEqual({ level: 'full' });
    } finally {
      await repo.close();
    }
  });

  it('refuses a wrong passphrase before writing anything', async () => {
    const repoDir = await init('wrong');
    const repo = await Repository.open(repoDir, supplier('not the passphrase'));
    try {
      await expect(runBackup(repo, new FilesystemSource(source), { level: 'full' })).rejects.toThrow(WrongKeyError);
      const objects = [];
      for await (const object of repo.store.list('')) objects.push(object.key);
      expect(objects).toEqual([REPOSITORY_OBJECT]);
      await expect(selectBackup(repo.catalog, {})).rejects.toThrow(NotFoundError);
    } finally {
      await repo.close();
    }
  });

  it('refuses storage that belongs to another repository', async () => {
    const first = await init('first');
    const second = await init('second');
    const descriptor = await readFile(join(localPaths(second).objects, REPOSITORY_OBJECT));
    await rm(join(localPaths(first).objects, REPOSITORY_OBJECT));
    await writeFile(join(localPaths(first).objects, REPOSITORY_OBJECT), descriptor);
    await expect(Repository.open(first, supplier())).rejects.toThrow(IntegrityError);
  });

  it('records a file deleted between the scan and its read as a warning, and backs up the rest', async () => {
    const repo = await Repository.open(await init('vanished'), supplier());
    try {
      const real = new FilesystemSource(source);
      // A source whose scan reports a file that is gone by the time it is read.
      const racing: Source = {
        kind: real.kind,
        location: real.location,
        open: (path) => real.open(path),
        async *scan() {
          for await (const item of real.scan()) {
            yield item;
            if (item.path === 'app/a.key') {
              yield { ...(item as SourceEntry), path: 'app/a2.key', ino: 999_999 };
            }
          }
        },
      };
      const result = await runBackup(repo, racing, { level: 'full' });
      expect(result.files).toBe(2);
      expect(result.warnings).toEqual(['app/a2.key: skipped (deleted while the backup ran)']);
    } finally {
      await repo.close();
    }
  });

  it('reports an ambiguous id prefix', async () => {
    const repo = await Repository.open(await init('ambiguous'), supplier());
    try {
      await runBackup(repo, new FilesystemSource(source), { level: 'full' });
      await runBackup(repo, new FilesystemSource(source), { level: 'full' });
      await expect(selectBackup(repo.catalog, { id: '2' })).rejects.toThrow(/ambiguous/);
    } finally {
      await repo.close();
    }
  });
});
