import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { IntegrityError, UsageError } from '@tresor/errors';
import { FilesystemSource } from '@tresor/source';
import { describe, expect, it, onTestFinished } from 'vitest';
import { azureContainer, s3Bucket } from '../../../../test/support/infra.js';
import { runBackup } from '../backup/backup.service.js';
import { initRepository } from '../init.js';
import type { KeySupplier } from '../keys.js';
import { archiveKey } from '../layout.js';
import { Repository } from '../repository.js';
import type { StorageConfig } from '../storage-config.js';
import { verifyBackup, VerifyRun } from '../verify/verify.service.js';
import { runRestore } from './restore.service.js';

const PASSPHRASE = 'unit test passphrase';
const supplier: KeySupplier = {
  passphrase: async () => PASSPHRASE,
  identityPem: async () => {
    throw new UsageError('no identity in this test');
  },
};

interface Fixture {
  readonly dir: string;
  readonly source: string;
  readonly files: Record<string, Buffer>;
}

async function fixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'tresor-fallback-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const source = join(dir, 'keys');
  await mkdir(source);
  const files = { 'a.key': Buffer.from('alpha'), 'keystore.p12': randomBytes(3 * 1024 * 1024 + 17) };
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(source, name), bytes);
  return { dir, source, files };
}

/** Backs up `source` into a new repository with `storage`; returns the repository directory and backup id. */
async function backedUp(f: Fixture, storage: StorageConfig): Promise<{ repoDir: string; backupId: string }> {
  const repoDir = join(f.dir, 'repo');
  await initRepository(repoDir, { kek: { type: 'passphrase', passphrase: PASSPHRASE, kdf: 'scrypt' }, storage });
  const repo = await Repository.open(repoDir, supplier);
  try {
    const { backupId } = await runBackup(repo, new FilesystemSource(f.source), { level: 'full' });
    return { repoDir, backupId };
  } finally {
    await repo.close();
  }
}

/** Flips one byte in the middle of a local object, keeping its size. */
async function corrupt(path: string): Promise<void> {
  await chmod(path, 0o600);
  const bytes = await readFile(path);
  bytes[bytes.length >> 1]! ^= 0xff;
  await writeFile(path, bytes);
}

async function withRepo<T>(repoDir: string, work: (repo: Repository) => Promise<T>): Promise<T> {
  const repo = await Repository.open(repoDir, supplier);
  try {
    return await work(repo);
  } finally {
    await repo.close();
  }
}

async function expectRestored(f: Fixture, target: string): Promise<void> {
  for (const [name, bytes] of Object.entries(f.files)) {
    expect((await readFile(join(target, name))).equals(bytes), name).toBe(true);
  }
}

const twoLocal = (dir: string): StorageConfig => ({
  writePolicy: 'all',
  locations: [
    { name: 'primary', type: 'local', path: 'objects' },
    { name: 'second', type: 'local', path: join(dir, 'second') },
  ],
});

describe('restore and verify read a good copy when a location holds a bad one', () => {
  it.each([
    ['corrupted', corrupt],
    ['truncated', (path: string) => truncate(path, 1000)],
  ])('falls back to the second local location when the first copy is %s', async (_label, damage) => {
    const f = await fixture();
    const { repoDir, backupId } = await backedUp(f, twoLocal(f.dir));
    await damage(join(repoDir, 'objects', archiveKey(backupId)));

    await withRepo(repoDir, async (repo) => {
      const backup = (await repo.catalog.listBackups())[0]!;
      const target = join(f.dir, 'restored');
      const result = await runRestore(repo, backup, { target });
      await expectRestored(f, target);
      expect(result.warnings).toEqual([
        expect.stringMatching(
          new RegExp(`^storage location primary: backup ${backupId}: archive ${archiveKey(backupId)} does not match its manifest .*; read ${archiveKey(backupId)} from second instead`),
        ),
      ]);
      for (const deep of [false, true]) {
        const report = await verifyBackup(repo, backup, { deep });
        expect(report).toMatchObject({ ok: true, deep });
        expect(report.warnings).toEqual([expect.stringMatching(/^storage location primary: .*read .* from second instead/)]);
      }
    });
  });

  it('fails naming every location when no copy is good', async () => {
    const f = await fixture();
    const { repoDir, backupId } = await backedUp(f, twoLocal(f.dir));
    await corrupt(join(repoDir, 'objects', archiveKey(backupId)));
    await truncate(join(f.dir, 'second', archiveKey(backupId)), 10);
    await withRepo(repoDir, async (repo) => {
      const backup = (await repo.catalog.listBackups())[0]!;
      const target = join(f.dir, 'restored');
      const failure = runRestore(repo, backup, { target });
      await expect(failure).rejects.toBeInstanceOf(IntegrityError);
      await expect(failure).rejects.toThrow(/no storage location holds a copy of .* matching its manifest: primary: .*; second: /);
      const report = await verifyBackup(repo, backup);
      expect(report.ok).toBe(false);
      expect(report.problem).toMatch(/primary: .*SHA-256 does not match its manifest; second: .*is 10 bytes, manifest says/);
    });
  });

  it('keeps failing with IntegrityError when the only location holds a bad copy', async () => {
    const f = await fixture();
    const { repoDir, backupId } = await backedUp(f, { type: 'local', path: 'objects' });
    await corrupt(join(repoDir, 'objects', archiveKey(backupId)));
    await withRepo(repoDir, async (repo) => {
      const backup = (await repo.catalog.listBackups())[0]!;
      const failure = runRestore(repo, backup, { target: join(f.dir, 'restored') });
      await expect(failure).rejects.toBeInstanceOf(IntegrityError);
      await expect(failure).rejects.toThrow(`backup ${backupId}: archive ${archiveKey(backupId)} does not match its manifest (corrupt or replaced)`);
      const report = await verifyBackup(repo, backup);
      expect(report).toMatchObject({ ok: false, problem: `backup ${backupId}: archive ${archiveKey(backupId)} SHA-256 does not match its manifest` });
    });
  });

  it('restores from the only copy by reading its entry table while hashing it, and writes nothing when the hash fails', async () => {
    const f = await fixture();
    const { repoDir, backupId } = await backedUp(f, { type: 'local', path: 'objects' });
    await withRepo(repoDir, async (repo) => {
      // The whole read (the hash) finds one byte flipped, and ends only once the table has been
      // read by ranges: a restore that waited for the hash before reading its table would hang.
      let rangeRead!: () => void;
      const tableRead = new Promise<void>((resolve) => (rangeRead = resolve));
      const read = repo.store.get.bind(repo.store);
      // Ranged reads come through readRange where the store has one (the local store does), else get.
      const readRange = repo.store.readRange?.bind(repo.store);
      if (readRange) {
        repo.store.readRange = async (key, offset, length) => {
          if (key === archiveKey(backupId)) rangeRead();
          return readRange(key, offset, length);
        };
      }
      repo.store.get = async (key, range) => {
        const stream = await read(key, range);
        if (key !== archiveKey(backupId)) return stream;
        if (range) {
          rangeRead();
          return stream;
        }
        const bytes = await buffer(stream);
        bytes[bytes.length >> 1]! ^= 0xff;
        return Readable.from((async function* () {
          await tableRead;
          yield bytes;
        })());
      };
      const backup = (await repo.catalog.listBackups())[0]!;
      const target = join(f.dir, 'restored');
      await expect(runRestore(repo, backup, { target })).rejects.toThrow(
        new IntegrityError(`backup ${backupId}: archive ${archiveKey(backupId)} does not match its manifest (corrupt or replaced)`),
      );
      await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await readdir(f.dir)).filter((name) => name.includes('restored'))).toEqual([]);
    });
  });

  it('deep-checks the only copy while hashing it, reports the hash first, and trusts nothing it read there later in the run', async () => {
    const f = await fixture();
    const { repoDir, backupId } = await backedUp(f, { type: 'local', path: 'objects' });
    // A second backup that needs only a.key from the first backup's archive.
    await rm(join(f.source, 'keystore.p12'));
    await writeFile(join(f.source, 'b.key'), 'beta');
    await withRepo(repoDir, (repo) => runBackup(repo, new FilesystemSource(f.source), { level: 'incremental' }));
    await withRepo(repoDir, async (repo) => {
      const run = new VerifyRun(repo);
      // The archive reads whole (the hash) with one byte flipped, and only once the deep check has
      // taken both its contents; read by ranges (the deep check), as stored.
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const read = repo.store.get.bind(repo.store);
      repo.store.get = async (key, range) => {
        const stream = await read(key, range);
        if (range || key !== archiveKey(backupId)) return stream;
        const bytes = await buffer(stream);
        bytes[bytes.length >> 1]! ^= 0xff;
        return Readable.from((async function* () {
          await released;
          yield bytes;
        })());
      };
      const add = run.add.bind(run);
      let contents = 0;
      run.add = (entry, line) => {
        add(entry, line);
        if (entry.data && ++contents === 2) release();
      };

      const [first, second] = await repo.catalog.listBackups();
      expect(await verifyBackup(repo, first!, { deep: true, run })).toMatchObject({
        ok: false,
        problem: `backup ${backupId}: archive ${archiveKey(backupId)} SHA-256 does not match its manifest`,
      });
      // a.key checked out from that copy, but the copy did not: a.key is checked again, and refused.
      expect((await verifyBackup(repo, second!, { deep: true, run })).problem).toBe(
        `backup ${backupId}: archive ${archiveKey(backupId)} does not match its manifest (corrupt or replaced)`,
      );
    });
  });

  it('falls back from a corrupt copy in MinIO to a local location', async () => {
    const f = await fixture();
    const s3 = await s3Bucket();
    onTestFinished(() => s3.cleanup());
    const credentials = s3.config.credentials as { accessKeyId: string; secretAccessKey: string };
    process.env.TRESOR_FALLBACK_S3_KEY_ID = credentials.accessKeyId;
    process.env.TRESOR_FALLBACK_S3_SECRET = credentials.secretAccessKey;
    const { repoDir, backupId } = await backedUp(f, {
      writePolicy: 'all',
      locations: [
        {
          name: 'offsite',
          type: 's3',
          bucket: s3.bucket,
          endpoint: s3.config.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: { env: 'TRESOR_FALLBACK_S3_KEY_ID' }, secretAccessKey: { env: 'TRESOR_FALLBACK_S3_SECRET' } },
        },
        { name: 'local', type: 'local', path: 'objects' },
      ],
    });
    const key = archiveKey(backupId);
    const stored = Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body!.transformToByteArray());
    stored[stored.length >> 1]! ^= 0xff;
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: stored }));

    await withRepo(repoDir, async (repo) => {
      const backup = (await repo.catalog.listBackups())[0]!;
      const target = join(f.dir, 'restored');
      const result = await runRestore(repo, backup, { target });
      await expectRestored(f, target);
      expect(result.warnings).toEqual([expect.stringMatching(/^storage location offsite: .*does not match its manifest.*from local instead/)]);
      const report = await verifyBackup(repo, backup, { deep: true });
      expect(report.ok).toBe(true);
      expect(report.warnings).toHaveLength(1);
    });
  });

  it('reads past a copy in the Azure Archive tier to a local one, naming the tier and no repair', async () => {
    const f = await fixture();
    const azure = await azureContainer();
    onTestFinished(() => azure.cleanup());
    process.env.TRESOR_FALLBACK_AZURE = azure.connectionString;
    const { repoDir, backupId } = await backedUp(f, {
      writePolicy: 'all',
      locations: [
        { name: 'cloud', type: 'azure', container: azure.containerName, connectionString: { env: 'TRESOR_FALLBACK_AZURE' } },
        { name: 'local', type: 'local', path: 'objects' },
      ],
    });
    await azure.container.getBlobClient(archiveKey(backupId)).setAccessTier('Archive');

    await withRepo(repoDir, async (repo) => {
      const backup = (await repo.catalog.listBackups())[0]!;
      const target = join(f.dir, 'restored');
      const result = await runRestore(repo, backup, { target });
      await expectRestored(f, target);
      expect(result.warnings).toEqual([
        `storage location cloud: object ${archiveKey(backupId)} is in the Archive storage class of azure://${azure.containerName}/ at ${/BlobEndpoint=([^;]+)/.exec(azure.connectionString)![1]!} and cannot be read until it is restored: run \`tresor storage rehydrate ${archiveKey(backupId)}\` and retry when it has finished; read ${archiveKey(backupId)} from local instead`,
      ]);
    });
  });
});
