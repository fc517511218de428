import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupJson, initRepo, makeKeyTree, removeDir, snapshotTree, tempDir, tresor } from './support.js';

/** Lists every file of a repository's storage with its bytes, to prove nothing stored changed. */
async function storedObjects(repo: string): Promise<Map<string, string>> {
  const objects = new Map<string, string>();
  const walk = async (dir: string, prefix: string) => {
    for (const name of await readdir(dir)) {
      const full = join(dir, name);
      if ((await stat(full)).isDirectory()) await walk(full, `${prefix}${name}/`);
      else objects.set(`${prefix}${name}`, (await readFile(full)).toString('base64'));
    }
  };
  await walk(join(repo, 'objects'), '');
  return objects;
}

describe('bad input: a clear error, a documented exit code, nothing stored changed', () => {
  let dir: string;
  let source: string;
  let repo: string;
  let backupId: string;

  beforeAll(async () => {
    dir = await tempDir();
    source = join(dir, 'keys');
    await makeKeyTree(source);
    repo = await initRepo(dir);
    backupId = (await backupJson(repo, source)).backupId;
  });
  afterAll(() => removeDir(dir));

  it('wrong passphrase: exit 4 for backup and restore, nothing stored', async () => {
    const before = await storedObjects(repo);
    const backup = await tresor(['--repo', repo, 'backup', source], { TRESOR_PASSPHRASE: 'not the passphrase at all' });
    expect(backup.code).toBe(4);
    expect(backup.stderr.trim()).toMatch(/^tresor: wrong passphrase for the repository in local:/);
    expect(backup.stderr.trim().split('\n')).toHaveLength(1);
    const restore = await tresor(['--repo', repo, 'restore', backupId, '--target', join(dir, 'wrong')], {
      TRESOR_PASSPHRASE: 'not the passphrase at all',
    });
    expect(restore.code).toBe(4);
    expect(await storedObjects(repo)).toEqual(before);
    await expect(stat(join(dir, 'wrong'))).rejects.toThrow(/ENOENT/);
  });

  it('no passphrase and no terminal: exit 2 saying how to give one', async () => {
    const result = await tresor(['--repo', repo, 'backup', source], { TRESOR_PASSPHRASE: undefined });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no passphrase: set TRESOR_PASSPHRASE, pass --passphrase-env VAR/);
  });

  it('unknown codec and out-of-range level: exit 2 naming the problem', async () => {
    const codec = await tresor(['--repo', repo, 'backup', source, '--compression', 'lz4']);
    expect(codec.code).toBe(2);
    expect(codec.stderr).toMatch(/unknown compression codec 'lz4'/);
    const level = await tresor(['--repo', repo, 'backup', source, '--compression', 'gzip', '--compression-level', '12']);
    expect(level.code).toBe(2);
    expect(level.stderr).toMatch(/12 is out of range for gzip/);
    const badLevel = await tresor(['--repo', repo, 'backup', source, '--level', 'weekly']);
    expect(badLevel.code).toBe(2);
  });

  it('a source that does not exist: exit 3 naming it', async () => {
    const result = await tresor(['--repo', repo, 'backup', join(dir, 'nope')]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(join(dir, 'nope'));
  });

  it('a repository that does not exist: exit 3 saying to run init', async () => {
    const result = await tresor(['--repo', join(dir, 'missing-repo'), 'list']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/run `tresor init` first/);
  });

  it('init over an existing repository: exit 6, the repository untouched', async () => {
    const before = await storedObjects(repo);
    const result = await tresor(['init', '--repo', repo]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/a repository already exists/);
    expect(await storedObjects(repo)).toEqual(before);
  });

  it('a too short passphrase at init: exit 2', async () => {
    const result = await tresor(['init', '--repo', join(dir, 'short')], { TRESOR_PASSPHRASE: 'short' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/passphrase is too short/);
  });

  it('a repository of a newer format version: exit 7', async () => {
    const newer = await initRepo(join(dir, 'newer'));
    const config = JSON.parse(await readFile(join(newer, 'tresor.json'), 'utf8'));
    await writeFile(join(newer, 'tresor.json'), JSON.stringify({ ...config, formatVersion: 99 }));
    const result = await tresor(['--repo', newer, 'list']);
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/format version 99 is newer than this tresor/);
  });

  it('an unknown backup id: exit 3', async () => {
    const result = await tresor(['--repo', repo, 'restore', 'ffff', '--target', join(dir, 'x')]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/no backup with id 'ffff'/);
  });

  it('refuses to write through a symlink that the target holds, and writes nothing outside', async () => {
    const outside = join(dir, 'outside');
    await mkdir(outside);
    const target = join(dir, 'trap');
    await mkdir(target);
    await symlink(outside, join(target, 'tenants'));
    const result = await tresor(['--repo', repo, 'restore', backupId, '--target', target, '--overwrite']);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/is a symlink; refusing to write through it/);
    expect(await readdir(outside)).toEqual([]);
    expect((await snapshotTree(target)).size).toBe(1);
  });

  it('a file that cannot be read: exit 8 naming it, or a warning with --skip-unreadable', async () => {
    const tree = join(dir, 'partly-unreadable');
    await mkdir(tree);
    await writeFile(join(tree, 'readable.key'), 'ok');
    await writeFile(join(tree, 'secret.key'), 'nobody may read this');
    await chmod(join(tree, 'secret.key'), 0o000);
    const unreadableRepo = await initRepo(join(dir, 'unreadable'));
    const asUser = { withoutDacOverride: true };

    const refused = await tresor(['--repo', unreadableRepo, 'backup', tree], {}, asUser);
    expect(refused.code).toBe(8);
    expect(refused.stderr).toMatch(/secret\.key/);
    expect(refused.stderr).toMatch(/--skip-unreadable/);
    const none = await tresor(['--repo', unreadableRepo, '--json', 'list'], {}, asUser);
    expect(JSON.parse(none.stdout)).toEqual([]);

    const skipped = await tresor(['--repo', unreadableRepo, '--json', 'backup', tree, '--skip-unreadable'], {}, asUser);
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toMatch(/warning: secret\.key: skipped/);
    expect(JSON.parse(skipped.stdout).files).toBe(1);
  });
});
