import { readdir, readFile, stat, truncate, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backupJson, initRepo, makeKeyTree, removeDir, tempDir, tresor } from './support.js';

/**
 * Every kind of damage to a stored archive or manifest is found by verify (exit 5, naming the
 * backup) and stops a restore before it writes anything.
 */
describe('tampered storage', () => {
  let dir: string;
  let repo: string;
  let backupId: string;
  let archive: string;
  let manifest: string;
  let pristine: { archive: Buffer; manifest: Buffer };

  beforeAll(async () => {
    dir = await tempDir();
    const source = join(dir, 'keys');
    await makeKeyTree(source);
    repo = await initRepo(dir);
    backupId = (await backupJson(repo, source, ['--compression', 'none'])).backupId;
    archive = join(repo, 'objects', 'archives', `${backupId}.tra`);
    manifest = join(repo, 'objects', 'manifests', `${backupId}.json`);
    pristine = { archive: await readFile(archive), manifest: await readFile(manifest) };
  });
  beforeEach(async () => {
    await writeFile(archive, pristine.archive);
    await writeFile(manifest, pristine.manifest);
  });
  afterAll(() => removeDir(dir));

  const expectDetected = async (label: string) => {
    const verify = await tresor(['--repo', repo, 'verify', backupId]);
    expect(verify.code, `${label}: verify`).toBe(5);
    expect(verify.stdout + verify.stderr).toContain(backupId);
    const target = join(dir, `restore-${label}`);
    const restore = await tresor(['--repo', repo, 'restore', backupId, '--target', target]);
    expect(restore.code, `${label}: restore exit`).toBe(5);
    expect(restore.stderr.trim().split('\n'), `${label}: one line`).toHaveLength(1);
    await expect(stat(target)).rejects.toThrow(/ENOENT/);
    expect((await readdir(dir)).filter((n) => n.includes('tresor-staging'))).toEqual([]);
  };

  it('passes verify and deep verify when untouched', async () => {
    const result = await tresor(['--repo', repo, 'verify', backupId, '--deep']);
    expect(result.code).toBe(0);
  });

  const offsets = [10, 100, 4000, 70_000, -30, -1];
  for (const offset of offsets) {
    it(`finds a flipped byte at archive offset ${offset}`, async () => {
      const bytes = Buffer.from(pristine.archive);
      const at = offset < 0 ? bytes.length + offset : offset;
      bytes[at] = bytes[at]! ^ 0x01;
      await writeFile(archive, bytes);
      await expectDetected(`flip-${offset}`);
    });
  }

  it('finds a truncated archive', async () => {
    await truncate(archive, pristine.archive.length - 100);
    await expectDetected('truncated');
  });

  it('finds a dropped frame (64 KiB + tag cut from the middle)', async () => {
    const frame = 64 * 1024 + 16;
    const start = 512;
    await writeFile(archive, Buffer.concat([pristine.archive.subarray(0, start), pristine.archive.subarray(start + frame)]));
    await expectDetected('dropped');
  });

  it('finds appended bytes', async () => {
    await appendFile(archive, Buffer.from([0]));
    await expectDetected('appended');
  });

  it('finds an edited manifest (signature no longer matches)', async () => {
    const edited = pristine.manifest.toString('utf8').replace('"full"', '"incremental"');
    expect(edited).not.toBe(pristine.manifest.toString('utf8'));
    await writeFile(manifest, edited);
    await expectDetected('manifest-edit');
  });

  it('finds a deleted manifest', async () => {
    await writeFile(manifest, '');
    await expectDetected('manifest-empty');
  });
});
