import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKeyTree, removeDir, snapshotTree, tempDir, tresor } from './support.js';

/** A write-only backup host holds only the public key: it can back up, never restore. */
describe('public-key (write-only) repository', () => {
  let dir: string;
  let source: string;
  let repo: string;
  let identity: string;
  let otherIdentity: string;

  beforeAll(async () => {
    dir = await tempDir();
    source = join(dir, 'keys');
    await makeKeyTree(source);
    const pair = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const other = generateKeyPairSync('rsa', { modulusLength: 3072 });
    await writeFile(join(dir, 'backup.pub.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
    identity = join(dir, 'identity.pem');
    otherIdentity = join(dir, 'other.pem');
    await writeFile(identity, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await writeFile(otherIdentity, other.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    repo = join(dir, 'repo');
    const init = await tresor(['init', '--repo', repo, '--public-key', join(dir, 'backup.pub.pem')], { TRESOR_PASSPHRASE: undefined });
    expect(init.stderr).toBe('');
    expect(init.stdout).toContain('write-only');
  });
  afterAll(() => removeDir(dir));

  it('backs up without any secret, restores only with the matching identity', async () => {
    const backup = await tresor(['--repo', repo, '--json', 'backup', source], { TRESOR_PASSPHRASE: undefined });
    expect(backup.stderr).toBe('');
    const { backupId } = JSON.parse(backup.stdout) as { backupId: string };

    const shallow = await tresor(['--repo', repo, 'verify', backupId], { TRESOR_PASSPHRASE: undefined });
    expect(shallow.code).toBe(0);

    const noKey = await tresor(['--repo', repo, 'restore', backupId, '--target', join(dir, 'a')]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--identity FILE/);

    const wrongKey = await tresor(['--repo', repo, '--identity', otherIdentity, 'restore', backupId, '--target', join(dir, 'b')]);
    expect(wrongKey.code).toBe(4);

    const target = join(dir, 'restored');
    const ok = await tresor(['--repo', repo, '--identity', identity, 'restore', backupId, '--target', target]);
    expect(ok.stderr).toBe('');
    expect(await snapshotTree(target)).toEqual(await snapshotTree(source));

    const deep = await tresor(['--repo', repo, '--identity', identity, 'verify', '--all', '--deep']);
    expect(deep.code).toBe(0);
  });

  it('refuses an RSA key shorter than 3072 bits at init', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(dir, 'weak.pub.pem'), weak.publicKey.export({ type: 'spki', format: 'pem' }));
    const result = await tresor(['init', '--repo', join(dir, 'weak-repo'), '--public-key', join(dir, 'weak.pub.pem')]);
    expect(result.code).toBe(2);
  });
});
