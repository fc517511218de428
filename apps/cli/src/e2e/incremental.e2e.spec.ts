import { appendFile, cp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupJson, initRepo, makeKeyTree, removeDir, snapshotTree, tempDir, tresor } from './support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('incremental and differential backups, point-in-time restore', () => {
  let dir: string;
  let source: string;
  let repo: string;
  const states: { id: string; at: string; tree: Awaited<ReturnType<typeof snapshotTree>> }[] = [];

  beforeAll(async () => {
    dir = await tempDir();
    source = join(dir, 'keys');
    await makeKeyTree(source);
    repo = await initRepo(dir);

    const take = async (level: string) => {
      const backup = await backupJson(repo, source, ['--level', level]);
      states.push({ id: backup.backupId, at: new Date().toISOString(), tree: await snapshotTree(source) });
      await sleep(1100);
      return backup;
    };
    const full = await take('full');
    expect(full.reusedFiles).toBe(2);

    await appendFile(join(source, 'tenants/acme/payments/tls.key'), 'rotated\n');
    await rm(join(source, 'shared/copy-of-ca.crt'));
    await writeFile(join(source, 'tenants/acme/new.key'), 'a new key\n', { mode: 0o600 });
    const first = await take('incremental');
    expect(first.level).toBe('incremental');
    // 11 files, minus the deleted one, plus the new one; 2 were written (changed and new).
    expect(first.files).toBe(11);
    expect(first.files - first.reusedFiles).toBe(2);

    await writeFile(join(source, 'tenants/acme/new.key'), 'the new key, rotated\n');
    const second = await take('incremental');
    expect(second.files - second.reusedFiles).toBe(1);

    const differential = await take('differential');
    // Relative to the full backup: the changed tls.key and the new key differ from it.
    expect(differential.files - differential.reusedFiles).toBe(2);
  });
  afterAll(() => removeDir(dir));

  it('an unchanged source stores no file contents again', async () => {
    const again = await backupJson(repo, source, ['--level', 'incremental']);
    expect(again.reusedFiles).toBe(again.files);
    expect(again.bytesStored).toBe(0);
    states.push({ id: again.backupId, at: new Date().toISOString(), tree: await snapshotTree(source) });
  });

  it('restores every backup of the chain to the state it recorded', async () => {
    for (const [i, state] of states.entries()) {
      const target = join(dir, `state-${i}`);
      const result = await tresor(['--repo', repo, 'restore', state.id, '--target', target]);
      expect(result.stderr).toBe('');
      expect(await snapshotTree(target)).toEqual(state.tree);
    }
  });

  it('restores the state at a point in time; files deleted before it do not come back', async () => {
    const target = join(dir, 'pit');
    const at = states[0]!.at;
    const result = await tresor(['--repo', repo, 'restore', '--at', at, '--target', target]);
    expect(result.code).toBe(0);
    expect(await snapshotTree(target)).toEqual(states[0]!.tree);

    const later = join(dir, 'pit-later');
    await tresor(['--repo', repo, 'restore', '--at', states[1]!.at, '--target', later]);
    const tree = await snapshotTree(later);
    expect(tree.has('shared/copy-of-ca.crt')).toBe(false);
    expect(tree.has('tenants/acme/new.key')).toBe(true);
  });

  it('refuses a time before the first backup', async () => {
    const result = await tresor(['--repo', repo, 'restore', '--at', '2001-01-01T00:00:00Z', '--target', join(dir, 'none')]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/no backup was taken at or before 2001-01-01/);
  });

  it('deep-verifies the whole chain and rebuilds the catalog from storage alone', async () => {
    const before = await tresor(['--repo', repo, '--json', 'list']);
    await rm(join(repo, 'catalog.db'));
    await rm(join(repo, 'catalog.db-wal'), { force: true });
    await rm(join(repo, 'catalog.db-shm'), { force: true });
    const rebuild = await tresor(['--repo', repo, 'catalog', 'rebuild']);
    expect(rebuild.stderr).toBe('');
    expect(rebuild.stdout).toContain(`catalog rebuilt: ${states.length} backups`);
    const after = await tresor(['--repo', repo, '--json', 'list']);
    expect(JSON.parse(after.stdout)).toEqual(JSON.parse(before.stdout));

    const verify = await tresor(['--repo', repo, 'verify', '--all', '--deep']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`${states.length} of ${states.length} backups verified (deep)`);
  });

  it('merges into a non-empty target only with --overwrite, keeping files the backup lacks', async () => {
    const target = join(dir, 'merge');
    await cp(join(dir, 'state-0'), target, { recursive: true });
    await writeFile(join(target, 'local-only.txt'), 'keep me');
    await writeFile(join(target, 'shared/ca.crt'), 'locally changed');

    const refused = await tresor(['--repo', repo, 'restore', states[1]!.id, '--target', target]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(/is not empty: use --overwrite/);
    expect((await snapshotTree(target)).get('local-only.txt')).toBeDefined();

    const merged = await tresor(['--repo', repo, 'restore', states[1]!.id, '--target', target, '--overwrite']);
    expect(merged.code).toBe(0);
    const tree = await snapshotTree(target);
    expect(tree.get('local-only.txt')?.type).toBe('file');
    expect(tree.get('shared/ca.crt')).toEqual(states[1]!.tree.get('shared/ca.crt'));
    expect(tree.get('tenants/acme/new.key')).toEqual(states[1]!.tree.get('tenants/acme/new.key'));
  });
});
