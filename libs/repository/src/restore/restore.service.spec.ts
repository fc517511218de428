import { lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, utimes, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '@tresor/errors';
import { FilesystemSource } from '@tresor/source';
import { runBackup } from '../backup/backup.service.js';
import { initRepository } from '../init.js';
import { Repository } from '../repository.js';
import { selectBackup } from '../select.js';
import { runRestore } from './restore.service.js';

const PASSPHRASE = 'restore spec passphrase';
const supplier = {
  passphrase: async () => PASSPHRASE,
  identityPem: async () => {
    throw new UsageError('no identity in this test');
  },
};
const OLD = new Date('2024-01-02T03:04:05Z');

describe('runRestore (streamed over the entry table)', () => {
  let dir: string;
  let repo: Repository;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-restore-'));
    const source = join(dir, 'source');
    for (const app of ['a', 'b', 'c']) {
      await mkdir(join(source, 'tenants', app), { recursive: true });
      for (let i = 0; i < 4; i++) await writeFile(join(source, 'tenants', app, `k${i}.key`), `${app}-${i}`);
      await writeFile(join(source, 'tenants', app, 'cert.pem'), `cert ${app}`);
    }
    await chmod(join(source, 'tenants', 'a', 'k0.key'), 0o400);
    await symlink('a/k1.key', join(source, 'tenants', 'current.key'));
    // Written last, so their mtimes are the ones recorded.
    await chmod(join(source, 'tenants', 'b'), 0o750);
    for (const app of ['a', 'b', 'c']) await utimes(join(source, 'tenants', app), OLD, OLD);
    await utimes(join(source, 'tenants'), OLD, OLD);
    await initRepository(join(dir, 'repo'), { kek: { type: 'passphrase', passphrase: PASSPHRASE, kdf: 'scrypt' } });
    repo = await Repository.open(join(dir, 'repo'), supplier);
    await runBackup(repo, new FilesystemSource(source), { level: 'full' });
  });
  afterAll(async () => {
    await repo.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('restores files, directories and symlinks with their metadata, directories last', async () => {
    const backup = await selectBackup(repo.catalog, { id: 'latest' });
    const target = join(dir, 'full');
    const result = await runRestore(repo, backup, { target });
    expect(result).toMatchObject({ files: 15, dirs: 4, symlinks: 1 });
    expect(result.pathsTruncated).toBeUndefined();
    expect(result.paths).toHaveLength(20);
    expect(await readFile(join(target, 'tenants', 'c', 'k3.key'), 'utf8')).toBe('c-3');
    expect((await lstat(join(target, 'tenants', 'a', 'k0.key'))).mode & 0o777).toBe(0o400);
    expect((await lstat(join(target, 'tenants', 'b'))).mode & 0o777).toBe(0o750);
    // Each directory's mtime survives the files written into it.
    for (const path of ['tenants', 'tenants/a', 'tenants/b', 'tenants/c']) {
      expect((await lstat(join(target, path))).mtime.toISOString()).toBe(OLD.toISOString());
    }
    expect(await readlink(join(target, 'tenants', 'current.key'))).toBe('a/k1.key');
  });

  it('lists at most listedPathsLimit paths and says so, while restoring and counting every entry', async () => {
    const backup = await selectBackup(repo.catalog, { id: 'latest' });
    const target = join(dir, 'keys-only');
    const result = await runRestore(repo, backup, { target, include: ['*.key'], listedPathsLimit: 3 });
    expect(result).toMatchObject({ files: 12, symlinks: 1, pathsTruncated: true });
    expect(result.paths).toEqual(['tenants/a/k0.key', 'tenants/a/k1.key', 'tenants/a/k2.key']);
    expect(await readFile(join(target, 'tenants', 'b', 'k2.key'), 'utf8')).toBe('b-2');

    const dry = await runRestore(repo, backup, { target: join(dir, 'dry'), include: ['*.pem'], listedPathsLimit: 2, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, files: 3, pathsTruncated: true });
    expect(dry.paths).toEqual(['tenants/a/cert.pem', 'tenants/b/cert.pem']);
  });
});
