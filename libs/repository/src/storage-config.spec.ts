import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoError, UsageError } from '@tresor/errors';
import { FilesystemSource } from '@tresor/source';
import { LocalStore, openLocation, syncLocations } from '@tresor/storage';
import { describe, expect, it, onTestFinished } from 'vitest';
import { s3Bucket } from '../../../test/support/infra.js';
import { runBackup } from './backup/backup.service.js';
import { readLocalConfig } from './config.js';
import { initRepository } from './init.js';
import type { KeySupplier } from './keys.js';
import { localPaths } from './layout.js';
import { Repository } from './repository.js';
import { runRestore } from './restore/restore.service.js';
import { selectBackup } from './select.js';
import type { StorageConfig } from './storage-config.js';
import { storageLocations } from './storage-config.js';

const PASSPHRASE = 'unit test passphrase';
const supplier: KeySupplier = {
  passphrase: async () => PASSPHRASE,
  identityPem: async () => {
    throw new UsageError('no identity in this test');
  },
};

async function fixture(): Promise<{ dir: string; source: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tresor-storage-config-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const source = join(dir, 'keys');
  await mkdir(source);
  await writeFile(join(source, 'a.key'), 'alpha');
  await writeFile(join(source, 'b.pem'), 'bravo');
  // Larger than the tee's buffers: a location that never reads its branch must not stall the others.
  await writeFile(join(source, 'keystore.p12'), randomBytes(2 * 1024 * 1024));
  return { dir, source };
}

async function init(repoDir: string, storage: StorageConfig): Promise<void> {
  await initRepository(repoDir, {
    kek: { type: 'passphrase', passphrase: PASSPHRASE, kdf: 'scrypt' },
    storage,
  });
}

/** A local location that is down: its directory is a file, so every operation fails. */
async function takeDown(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await writeFile(path, 'down');
}

describe('repository storage locations', () => {
  it('backs up to local + MinIO, completes with one location down under quorum, and sync repairs it', async () => {
    const { dir, source } = await fixture();
    const s3 = await s3Bucket();
    onTestFinished(() => s3.cleanup());
    const credentials = s3.config.credentials as { accessKeyId: string; secretAccessKey: string };
    process.env.TRESOR_SPEC_S3_KEY_ID = credentials.accessKeyId;
    process.env.TRESOR_SPEC_S3_SECRET = credentials.secretAccessKey;
    const repoDir = join(dir, 'repo');
    const storage: StorageConfig = {
      writePolicy: 'quorum',
      locations: [
        { name: 'primary', type: 'local', path: 'objects' },
        { name: 'second', type: 'local', path: join(dir, 'second') },
        {
          name: 'offsite',
          type: 's3',
          bucket: s3.bucket,
          endpoint: s3.config.endpoint,
          forcePathStyle: true,
          credentials: {
            accessKeyId: { env: 'TRESOR_SPEC_S3_KEY_ID' },
            secretAccessKey: { env: 'TRESOR_SPEC_S3_SECRET' },
          },
        },
      ],
    };
    await init(repoDir, storage);

    await takeDown(join(dir, 'second'));
    const degraded: string[] = [];
    const repo = await Repository.open(repoDir, supplier, {
      onDegraded: (name, key) => degraded.push(`${name} ${key}`),
    });
    const backup = await runBackup(repo, new FilesystemSource(source), { level: 'full' });
    await repo.close();
    expect(degraded).toContain(`second archives/${backup.backupId}.tra`);
    expect(degraded).toContain(`second manifests/${backup.backupId}.json`);

    await rm(join(dir, 'second'));
    const locations = await Promise.all(
      storageLocations((await readLocalConfig(localPaths(repoDir).config)).storage, repoDir).map(
        async (l) => ({
          name: l.name,
          store: await openLocation(l),
        }),
      ),
    );
    const actions = await syncLocations(locations);
    await Promise.all(locations.map((l) => l.store.close?.()));
    // The second location was created empty: it gets everything, including what init wrote.
    expect(actions.filter((a) => a.outcome === 'copied' && a.to === 'second').map((a) => a.key)).toEqual(
      expect.arrayContaining([
        `archives/${backup.backupId}.tra`,
        `manifests/${backup.backupId}.json`,
        'repository.json',
      ]),
    );
    expect(actions.filter((a) => a.outcome === 'failed')).toEqual([]);

    // Restore from the repaired location alone.
    await takeDown(join(repoDir, 'objects'));
    const reopened = await Repository.open(repoDir, supplier);
    try {
      const target = join(dir, 'restored');
      await runRestore(reopened, await selectBackup(reopened.catalog, { id: 'latest' }), { target });
      expect(await readFile(join(target, 'a.key'), 'utf8')).toBe('alpha');
    } finally {
      await reopened.close();
    }
    const second = await LocalStore.open({ path: join(dir, 'second') });
    expect(await second.head(`archives/${backup.backupId}.tra`)).toBeDefined();
  });

  it('fails the backup clearly under "all" when a location is down', async () => {
    const { dir, source } = await fixture();
    const repoDir = join(dir, 'repo');
    await init(repoDir, {
      writePolicy: 'all',
      locations: [
        { name: 'a', type: 'local', path: 'a' },
        { name: 'b', type: 'local', path: 'b' },
      ],
    });
    const repo = await Repository.open(repoDir, supplier);
    try {
      await takeDown(join(repoDir, 'b'));
      const failure = runBackup(repo, new FilesystemSource(source), { level: 'full' });
      await expect(failure).rejects.toBeInstanceOf(IoError);
      await expect(failure).rejects.toThrow(/under write policy all in 1 location\(s\): b: /);
      expect(await repo.catalog.listBackups({})).toEqual([]);
    } finally {
      await repo.close();
    }
  });

  it('refuses to open under "all" when a location cannot be opened, and names it', async () => {
    const { dir } = await fixture();
    const repoDir = join(dir, 'repo');
    await init(repoDir, {
      writePolicy: 'all',
      locations: [
        { name: 'a', type: 'local', path: 'a' },
        { name: 'b', type: 'local', path: 'b' },
      ],
    });
    await takeDown(join(repoDir, 'b'));
    await expect(Repository.open(repoDir, supplier)).rejects.toThrow(
      /storage location b is unavailable and write policy all needs 2 of 2 locations/,
    );
  });

  it('reads the single-location form and names file and field of a bad location', async () => {
    const { dir } = await fixture();
    const repoDir = join(dir, 'repo');
    await init(repoDir, { type: 'local', path: 'objects' });
    const file = localPaths(repoDir).config;
    expect((await readLocalConfig(file)).storage).toEqual({ type: 'local', path: 'objects' });
    const config = JSON.parse(await readFile(file, 'utf8'));
    for (const [storage, message] of [
      [
        { locations: [{ name: 'x', type: 's3', bucket: 'Bad' }] },
        /tresor\.json: storage\.locations\.0: storage location x: s3 storage bucket: is not a valid/,
      ],
      [{ locations: [] }, /tresor\.json: storage\.locations: name at least one location/],
      [
        {
          locations: [
            { name: 'x', type: 'local', path: '/a' },
            { name: 'x', type: 'local', path: '/b' },
          ],
        },
        /storage\.locations\.1: storage location x: name is used twice/,
      ],
      [
        { locations: [{ name: 'x', type: 'local', path: '/a' }], writePolicy: 'most' },
        /storage\.writePolicy/,
      ],
      [{ type: 'nfs', path: '/a' }, /tresor\.json: storage\.type/],
    ] as const) {
      await writeFile(file, JSON.stringify({ ...config, storage }));
      await expect(readLocalConfig(file)).rejects.toThrow(message);
    }
  });
});
