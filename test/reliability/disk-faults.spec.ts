import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backupJson,
  initRepo,
  makeKeyTree,
  removeDir,
  snapshotTree,
  tempDir,
  tresor,
} from '../../apps/cli/src/e2e/support.js';
import { canMountTmpfs, mountTmpfs } from '../support/tmpfs.js';
import type { SmallFilesystem } from '../support/tmpfs.js';

const MiB = 1024 * 1024;
/** Real filesystems that fill up need mount rights (root, as in .ci/run): without them these tests fail, never skip. */
const CAN_MOUNT = await canMountTmpfs();

/**
 * A disk that fills up mid-job, on a real (tmpfs) filesystem: the restore target stays as it was,
 * a backup leaves no partial archive visible and the repository still verifies, and the space the
 * failed job took is given back.
 */
describe('disk full', () => {
  let dir: string;
  let repo: string;
  let source: string;
  let backupId: string;
  const mounts: SmallFilesystem[] = [];

  beforeAll(async () => {
    if (!CAN_MOUNT) throw new Error('disk-full tests need to mount a small tmpfs (run them as root, as .ci/run does)');
    dir = await tempDir('tresor-disk-');
    source = join(dir, 'keys');
    await makeKeyTree(source);
    // 3 MiB that no codec can shrink: more than the small filesystems below hold.
    await writeFile(join(source, 'keystore-large.bin'), randomBytes(3 * MiB));
    repo = await initRepo(dir, ['--kdf', 'scrypt']);
    backupId = (await backupJson(repo, source)).backupId;
  });
  afterAll(async () => {
    for (const m of mounts) await m.unmount();
    await removeDir(dir);
  });
  const small = async (bytes: number) => {
    const fs = await mountTmpfs(bytes);
    mounts.push(fs);
    return fs;
  };

  it('restore into a new target on a full disk: exit 8, no target, no staging left, the space given back', async () => {
    const fs = await small(2 * MiB);
    const freeBefore = await fs.free();
    const target = join(fs.dir, 'restored');
    const result = await tresor(['--repo', repo, 'restore', backupId, '--target', target]);
    expect(result.code, result.stderr).toBe(8);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/no space|ENOSPC|disk full/i);
    expect(await readdir(fs.dir)).toEqual([]);
    expect(await fs.free()).toBe(freeBefore);
  });

  it('restore --overwrite onto an existing target on a full disk: the target stays exactly as it was', async () => {
    const fs = await small(2 * MiB);
    const target = join(fs.dir, 'live');
    await mkdir(join(target, 'tenants', 'acme'), { recursive: true });
    await writeFile(join(target, 'tenants', 'acme', 'keep.key'), 'the operator put this here\n');
    await writeFile(join(target, 'keystore.bin'), 'an older keystore\n');
    const before = await snapshotTree(target);
    const freeBefore = await fs.free();
    const result = await tresor(['--repo', repo, 'restore', backupId, '--target', target, '--overwrite']);
    expect(result.code, result.stderr).toBe(8);
    expect(await snapshotTree(target)).toEqual(before);
    expect(await readdir(fs.dir)).toEqual(['live']);
    expect(await fs.free()).toBe(freeBefore);
  });

  // Eight CLI runs: the default 60 s is too tight when the test machine is loaded.
  it('backup into a repository on a full disk: exit 8, no partial archive, fsck and verify pass, the next backup works', { timeout: 240_000 }, async () => {
    const fs = await small(2 * MiB);
    const smallSource = join(dir, 'small-keys');
    await makeKeyTree(smallSource);
    await rm(join(smallSource, 'keystore.bin'));
    const smallRepo = await initRepo(fs.dir, ['--kdf', 'scrypt']);
    const first = (await backupJson(smallRepo, smallSource)).backupId;
    const archivesBefore = await readdir(join(smallRepo, 'objects', 'archives'));

    const failed = await tresor(['--repo', smallRepo, 'backup', source]);
    expect(failed.code, failed.stderr).toBe(8);
    // The cause, where: the disk is full in the repository's location (not "the operation was aborted").
    expect(failed.stderr).toMatch(/^tresor: cannot store object archives\/\S+\.tra in \S+: no space left on device \(ENOSPC\)$/m);
    expect(failed.stderr).not.toMatch(/operation was aborted/i);
    // Every file handle closed on the way out, none left for the garbage collector.
    expect(failed.stderr).not.toMatch(/on garbage collection/);
    expect(await readdir(join(smallRepo, 'objects', 'archives'))).toEqual(archivesBefore);
    expect(await readdir(join(smallRepo, 'objects', 'manifests'))).toEqual([`${first}.json`]);
    expect(await readdir(join(smallRepo, 'tmp'))).toEqual([]);
    const fsck = await tresor(['--repo', smallRepo, 'fsck', '--read-data']);
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
    const verify = await tresor(['--repo', smallRepo, 'verify', '--all', '--deep']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const list = JSON.parse((await tresor(['--repo', smallRepo, '--json', 'list'])).stdout) as { id: string }[];
    expect(list.map((b) => b.id)).toEqual([first]);

    // The space the failed backup took is free again: a backup that fits goes through.
    await writeFile(join(smallSource, 'rotated.key'), 'a key rotated after the failure\n');
    const next = await backupJson(smallRepo, smallSource);
    expect(next.files).toBeGreaterThan(0);
    const target = join(dir, 'after-full');
    expect((await tresor(['--repo', smallRepo, 'restore', next.backupId, '--target', target])).code).toBe(0);
    expect(await snapshotTree(target)).toEqual(await snapshotTree(smallSource));
  });
});
