import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupJson, initRepo, makeKeyTree, removeDir, snapshotTree, tempDir, tresor } from './support.js';

/** A restore that fails half-way leaves the target exactly as it was, and no staging behind. */
describe('atomic restore', () => {
  let dir: string;
  let repo: string;
  let backupId: string;

  beforeAll(async () => {
    dir = await tempDir();
    const source = join(dir, 'keys');
    await makeKeyTree(source);
    repo = await initRepo(dir);
    backupId = (await backupJson(repo, source)).backupId;
  });
  afterAll(() => removeDir(dir));

  it('rolls back when an entry cannot be written after others were', async () => {
    const target = join(dir, 'target');
    await mkdir(join(target, 'tenants/acme/payments'), { recursive: true });
    await writeFile(join(target, 'tenants/acme/payments/tls.key'), 'the old key, must survive');
    await writeFile(join(target, 'unrelated.txt'), 'keep');
    // A directory where the backup has a file: met only after several files were written.
    await mkdir(join(target, 'tenants/globex/日本語/鍵.pem'), { recursive: true });
    const before = await snapshotTree(target);

    const result = await tresor(['--repo', repo, 'restore', backupId, '--target', target, '--overwrite']);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/a directory is in the way/);
    expect(await snapshotTree(target)).toEqual(before);
    expect((await readdir(dir)).filter((name) => name.includes('tresor-staging'))).toEqual([]);
  });
});
