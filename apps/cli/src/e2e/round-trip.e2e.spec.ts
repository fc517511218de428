import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupJson, initRepo, makeKeyTree, removeDir, snapshotTree, tempDir, tresor } from './support.js';

describe('backup and restore round trip', () => {
  let dir: string;
  let source: string;

  beforeAll(async () => {
    dir = await tempDir();
    source = join(dir, 'keys');
    await makeKeyTree(source);
  });
  afterAll(() => removeDir(dir));

  for (const codec of ['none', 'gzip', 'brotli', 'xz', 'bzip2', 'zstd']) {
    it(`restores byte for byte, with modes and mtimes, using ${codec}`, async () => {
      const repo = await initRepo(join(dir, codec));
      const backup = await backupJson(repo, source, ['--level', 'full', '--compression', codec]);
      expect(backup.level).toBe('full');
      expect(backup.files).toBe(11);

      const target = join(dir, codec, 'restored');
      const restore = await tresor(['--repo', repo, 'restore', backup.backupId, '--target', target]);
      expect(restore.stderr).toBe('');
      expect(restore.code).toBe(0);
      expect(await snapshotTree(target)).toEqual(await snapshotTree(source));
    });
  }

  it('stores identical contents once within a backup', async () => {
    const repo = await initRepo(join(dir, 'dedup'));
    const backup = await backupJson(repo, source, ['--compression', 'none']);
    // shared/ca.crt, shared/copy-of-ca.crt and tenants/acme/payments/tls.crt have the same bytes.
    expect(backup.reusedFiles).toBe(2);
    const show = await tresor(['--repo', repo, '--json', 'show', backup.backupId, '--include', '*.crt']);
    const entries = (JSON.parse(show.stdout).entries as { path: string; type: string; data: { offset: number } }[]).filter(
      (e) => e.type === 'file',
    );
    expect(entries.map((e) => e.path).sort()).toEqual(['shared/ca.crt', 'shared/copy-of-ca.crt', 'tenants/acme/payments/tls.crt']);
    expect(new Set(entries.map((e) => e.data.offset)).size).toBe(1);
  });

  it('lists, shows and verifies with --json and in text', async () => {
    const repo = await initRepo(join(dir, 'listing'));
    const backup = await backupJson(repo, source, ['--tag', 'nightly']);
    const list = await tresor(['--repo', repo, '--json', 'list']);
    expect(list.code).toBe(0);
    const backups = JSON.parse(list.stdout) as { id: string; tags: string[]; source: string }[];
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatchObject({ id: backup.backupId, tags: ['nightly'], source });

    const text = await tresor(['--repo', repo, 'list']);
    expect(text.stdout).toContain(backup.backupId);
    expect(text.stdout).toContain('nightly');

    const show = await tresor(['--repo', repo, 'show', backup.backupId.slice(0, 17), '--include', 'tenants/globex/**']);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('clé privée.key');
    expect(show.stdout).not.toContain('tls.key');

    const verify = await tresor(['--repo', repo, 'verify', '--all', '--deep']);
    expect(verify.stdout).toContain('1 of 1 backups verified (deep)');
    expect(verify.code).toBe(0);
  });

  it('restores only what --include and --exclude select', async () => {
    const repo = await initRepo(join(dir, 'selective'));
    await backupJson(repo, source);
    const target = join(dir, 'selective', 'restored');
    const result = await tresor(['--repo', repo, 'restore', 'latest', '--target', target, '--include', '*.key', '--exclude', 'deep/**']);
    expect(result.code).toBe(0);
    const restored = [...(await snapshotTree(target)).entries()].filter(([, e]) => e.type === 'file').map(([p]) => p).sort();
    expect(restored).toEqual([
      'tenants/acme/identity/signing.key',
      'tenants/acme/payments/tls.key',
      'tenants/globex/clés et données/clé privée.key',
      'tenants/globex/with space/empty.key',
    ]);
  });

  it('writes nothing on --dry-run', async () => {
    const repo = await initRepo(join(dir, 'dry'));
    await backupJson(repo, source);
    const target = join(dir, 'dry', 'restored');
    const result = await tresor(['--repo', repo, 'restore', '--target', target, '--dry-run', '--include', '*.crt']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('would restore shared/ca.crt');
    expect(result.stdout).toContain('nothing written');
    await expect(snapshotTree(target)).rejects.toThrow(/ENOENT/);
  });

  it('runs the demo end to end', async () => {
    const result = await tresor(['demo', '--dir', join(dir, 'demo')], { TRESOR_PASSPHRASE: undefined });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('2 of 2 backups verified (deep)');
    expect(await snapshotTree(join(dir, 'demo', 'restored'))).toEqual(await snapshotTree(join(dir, 'demo', 'keys')));
  });
});
