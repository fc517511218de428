import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { IoError, UsageError } from '@tresor/errors';
import type { ObjectStore } from '@tresor/storage';
import { FilesystemSource } from '@tresor/source';
import { s3Bucket } from '../../../../test/support/infra.js';
import { runBackup } from '../backup/backup.service.js';
import { initRepository } from '../init.js';
import type { KeySupplier } from '../keys.js';
import { Repository } from '../repository.js';
import { runRestore } from '../restore/restore.service.js';
import { runForget } from './forget.service.js';
import type { LockProbe } from './object-locks.js';

const PASSPHRASE = 'unit test passphrase';
const supplier: KeySupplier = {
  passphrase: async () => PASSPHRASE,
  identityPem: async () => {
    throw new UsageError('no identity in this test');
  },
};
/** A probe that sees no lock, as when a lock is set after the probe asked or cannot be read. */
const blind: LockProbe = { locations: 1, retainedUntil: async () => undefined };

describe('runForget against storage that refuses a delete', () => {
  let dir: string;
  let source: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-forget-'));
    source = join(dir, 'keys');
    await mkdir(source);
    await writeFile(join(source, 'a.key'), 'alpha');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('puts the catalog entry back and reports the backup deferred when the manifest delete is refused (WORM)', async () => {
    const s3 = await s3Bucket({ objectLock: true });
    onTestFinished(() => s3.cleanup());
    const credentials = s3.config.credentials as { accessKeyId: string; secretAccessKey: string };
    process.env.FORGET_SPEC_S3_KEY = credentials.accessKeyId;
    process.env.FORGET_SPEC_S3_SECRET = credentials.secretAccessKey;
    const repoDir = join(dir, 'repo');
    await initRepository(repoDir, {
      kek: { type: 'passphrase', passphrase: PASSPHRASE, kdf: 'scrypt' },
      storage: {
        writePolicy: 'all',
        locations: [
          {
            name: 'worm',
            type: 's3',
            bucket: s3.bucket,
            endpoint: s3.config.endpoint,
            forcePathStyle: true,
            credentials: { accessKeyId: { env: 'FORGET_SPEC_S3_KEY' }, secretAccessKey: { env: 'FORGET_SPEC_S3_SECRET' } },
          },
        ],
      },
    });
    const repo = await Repository.open(repoDir, supplier);
    try {
      const old = await runBackup(repo, new FilesystemSource(source), { level: 'full' });
      const newest = await runBackup(repo, new FilesystemSource(source), { level: 'full' });
      await s3.client.send(
        new PutObjectRetentionCommand({
          Bucket: s3.bucket,
          Key: `manifests/${old.backupId}.json`,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 86_400_000) },
        }),
      );
      const entriesBefore = [];
      for await (const entry of repo.catalog.entries(old.backupId)) entriesBefore.push(entry);

      const report = await runForget(repo, { policy: { keepLast: 1 }, dryRun: false, locks: blind });
      expect(report.removed).toEqual([]);
      const verdict = report.decisions.find((d) => d.backup.id === old.backupId)!;
      expect(verdict.action).toBe('deferred');
      expect(verdict.reasons.at(-1)).toMatch(/^deferred: .*under retention \(WORM\)/);
      expect(report.decisions.find((d) => d.backup.id === newest.backupId)!.action).toBe('keep');

      // Nothing was lost: the catalog lists the backup with the same entries, and it restores.
      expect((await repo.catalog.listBackups()).map((b) => b.id)).toEqual([old.backupId, newest.backupId]);
      const entriesAfter = [];
      for await (const entry of repo.catalog.entries(old.backupId)) entriesAfter.push(entry);
      expect(entriesAfter).toEqual(entriesBefore);
      const restored = await runRestore(repo, (await repo.catalog.getBackup(old.backupId))!, { target: join(dir, 'restored') });
      expect(restored.paths).toEqual(['a.key']);
    } finally {
      await repo.close();
    }
  }, 180_000);

  it('removes the catalog entry before any object, newest first, and reports objects it could not delete as leftovers', async () => {
    const repoDir = join(dir, 'local');
    await initRepository(repoDir, { kek: { type: 'passphrase', passphrase: PASSPHRASE, kdf: 'scrypt' } });
    const repo = await Repository.open(repoDir, supplier);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        await writeFile(join(source, 'a.key'), `version ${i}`);
        ids.push((await runBackup(repo, new FilesystemSource(source), { level: 'incremental' })).backupId);
      }
      // Watch every delete: at that moment no catalog entry may refer to the object's backup.
      const store = repo.store;
      const deletes: string[] = [];
      const watched: ObjectStore = Object.create(store, {
        delete: {
          value: async (key: string) => {
            const listed = (await repo.catalog.listBackups()).filter((b) => key.includes(b.id) || b.dataBackupIds.some((id) => key.includes(id)));
            expect(listed.map((b) => b.id), `catalog entries referring to ${key}`).toEqual([]);
            deletes.push(key);
            if (key === `archives/${ids[0]}.tra`) throw new IoError('disk went away');
            return store.delete(key);
          },
        },
      });
      Object.defineProperty(repo, 'store', { value: watched });

      const report = await runForget(repo, { policy: { keepLast: 1 }, dryRun: false });
      expect(report.removed).toEqual([ids[1], ids[0]]);
      expect(deletes).toEqual([`manifests/${ids[1]}.json`, `archives/${ids[1]}.tra`, `manifests/${ids[0]}.json`, `archives/${ids[0]}.tra`]);
      expect(report.leftovers).toEqual([{ backupId: ids[0], key: `archives/${ids[0]}.tra`, reason: 'disk went away' }]);
      expect((await repo.catalog.listBackups()).map((b) => b.id)).toEqual([ids[2]]);
      expect(await store.head(`archives/${ids[0]}.tra`)).toBeDefined();
      expect(await store.head(`manifests/${ids[0]}.json`)).toBeUndefined();
    } finally {
      await repo.close();
    }
  }, 120_000);
});
