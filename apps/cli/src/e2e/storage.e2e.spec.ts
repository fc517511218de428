import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { s3Bucket } from '../../../../test/support/infra.js';
import { makeKeyTree, removeDir, snapshotTree, tempDir, tresor } from './support.js';

async function scratch(): Promise<string> {
  const dir = await tempDir();
  onTestFinished(() => removeDir(dir));
  return dir;
}

describe('tresor storage', () => {
  it('backs up to three locations with one down under quorum, reports it in check, and sync repairs it', async () => {
    const dir = await scratch();
    const s3 = await s3Bucket();
    onTestFinished(() => s3.cleanup());
    const credentials = s3.config.credentials as { accessKeyId: string; secretAccessKey: string };
    const env = { E2E_S3_KEY_ID: credentials.accessKeyId, E2E_S3_SECRET: credentials.secretAccessKey };
    const repo = join(dir, 'repo');
    const source = join(dir, 'keys');
    await makeKeyTree(source);
    const storage = [
      { name: 'primary', type: 'local', path: 'objects' },
      { name: 'second', type: 'local', path: join(dir, 'second') },
      {
        name: 'offsite',
        type: 's3',
        bucket: s3.bucket,
        endpoint: s3.config.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: { env: 'E2E_S3_KEY_ID' }, secretAccessKey: { env: 'E2E_S3_SECRET' } },
      },
    ];
    const init = await tresor(
      [
        '--repo',
        repo,
        'init',
        '--kdf',
        'scrypt',
        '--storage',
        JSON.stringify(storage),
        '--write-policy',
        'quorum',
      ],
      env,
    );
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);

    const list = await tresor(['--repo', repo, 'storage', 'list'], env);
    expect(list.stdout).toMatch(/write policy: quorum/);
    expect(list.stdout).toMatch(new RegExp(`offsite +s3 +${s3.bucket}/ at http://127\\.0\\.0\\.1`));
    expect(list.stdout).not.toContain(credentials.secretAccessKey);

    const healthy = await tresor(['--repo', repo, '--json', 'storage', 'check'], env);
    expect(healthy.code).toBe(0);
    expect(JSON.parse(healthy.stdout)).toEqual([
      expect.objectContaining({
        name: 'primary',
        reachable: true,
        writable: true,
        freeBytes: expect.any(Number),
      }),
      expect.objectContaining({ name: 'second', reachable: true, writable: true }),
      expect.objectContaining({
        name: 'offsite',
        reachable: true,
        writable: true,
        latencyMs: expect.any(Number),
      }),
    ]);

    await rm(join(dir, 'second'), { recursive: true });
    await writeFile(join(dir, 'second'), 'down');
    const backup = await tresor(['--repo', repo, 'backup', source], env);
    expect(backup.code).toBe(0);
    // The missed writes are reported as they happen, each with the way to repair them.
    const backupId = /backup (\S+) completed/.exec(backup.stdout)![1]!;
    for (const key of [`archives/${backupId}.tra`, `manifests/${backupId}.json`]) {
      expect(backup.stderr).toContain(
        `warning: storage location second missed ${key} (`,
      );
    }
    expect(backup.stderr).toMatch(/^warning: storage location second missed \S+ \(.+\); run `tresor storage sync` once it is back$/m);
    expect(backup.stderr).not.toMatch(/primary|offsite/);
    const check = await tresor(['--repo', repo, 'storage', 'check'], env);
    expect(check.code).toBe(8);
    expect(check.stderr).toMatch(/tresor: 1 of 3 storage location\(s\) failed the check: second/);

    await rm(join(dir, 'second'));
    const sync = await tresor(['--repo', repo, 'storage', 'sync'], env);
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/copied archives\/\S+\.tra to second from primary/);
    expect(sync.stdout).toMatch(/copied repository\.json to second from primary/);
    const again = await tresor(['--repo', repo, 'storage', 'sync'], env);
    expect(again.stdout).toMatch(/^0 object\(s\) copied, 0 repaired, 0 failed, 0 location\(s\) unreachable$/m);

    // The repaired location alone can restore.
    await rm(join(repo, 'objects'), { recursive: true });
    await writeFile(join(repo, 'objects'), 'down');
    await rm(join(dir, 'second', 'tresor-probe'), { recursive: true, force: true });
    const restore = await tresor(
      ['--repo', repo, 'restore', 'latest', '--target', join(dir, 'restored')],
      env,
    );
    expect(restore.code).toBe(0);
    // The unreadable first location is passed over, and said so.
    expect(restore.stderr).toMatch(/^warning: storage location primary: .*; read archives\/\S+\.tra from second instead/m);
  }, 180_000);

  it('restores and verifies from the second location when the first holds a corrupt archive', async () => {
    const dir = await scratch();
    const repo = join(dir, 'repo');
    const source = join(dir, 'keys');
    await makeKeyTree(source);
    const storage = [
      { name: 'primary', type: 'local', path: 'objects' },
      { name: 'second', type: 'local', path: join(dir, 'second') },
    ];
    expect((await tresor(['--repo', repo, 'init', '--kdf', 'scrypt', '--storage', JSON.stringify(storage)])).code).toBe(0);
    const backup = await tresor(['--repo', repo, 'backup', source]);
    expect(backup.code).toBe(0);
    expect(backup.stderr).toBe('');
    const backupId = /backup (\S+) completed/.exec(backup.stdout)![1]!;
    const archive = join(repo, 'objects', 'archives', `${backupId}.tra`);
    await chmod(archive, 0o600);
    const bytes = await readFile(archive);
    bytes[bytes.length >> 1]! ^= 0x01;
    await writeFile(archive, bytes);

    const target = join(dir, 'restored');
    const restore = await tresor(['--repo', repo, 'restore', 'latest', '--target', target]);
    expect(restore.code).toBe(0);
    expect(restore.stderr).toMatch(
      new RegExp(`^warning: storage location primary: backup ${backupId}: archive archives/${backupId}\\.tra does not match its manifest \\(corrupt or replaced\\); read archives/${backupId}\\.tra from second instead`, 'm'),
    );
    expect(await snapshotTree(target)).toEqual(await snapshotTree(source));

    const verify = await tresor(['--repo', repo, 'verify', '--all', '--deep']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^1 of 1 backups verified \(deep\)$/m);
    expect(verify.stderr).toMatch(/^warning: storage location primary: .*SHA-256 does not match its manifest; read .* from second instead/m);
    const json = await tresor(['--repo', repo, '--json', 'verify', '--all']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).reports[0].warnings).toEqual([expect.stringContaining('storage location primary')]);
  });

  it('still fails with exit 5 when the only location holds a corrupt archive', async () => {
    const dir = await scratch();
    const repo = join(dir, 'repo');
    const source = join(dir, 'keys');
    await makeKeyTree(source);
    expect((await tresor(['--repo', repo, 'init', '--kdf', 'scrypt'])).code).toBe(0);
    const backupId = /backup (\S+) completed/.exec((await tresor(['--repo', repo, 'backup', source])).stdout)![1]!;
    const archive = join(repo, 'objects', 'archives', `${backupId}.tra`);
    await chmod(archive, 0o600);
    const bytes = await readFile(archive);
    bytes[bytes.length >> 1]! ^= 0x01;
    await writeFile(archive, bytes);
    const restore = await tresor(['--repo', repo, 'restore', 'latest', '--target', join(dir, 'restored')]);
    expect(restore.code).toBe(5);
    expect(restore.stderr).toMatch(/does not match its manifest \(corrupt or replaced\)/);
    expect(restore.stderr).not.toMatch(/warning/);
    const verify = await tresor(['--repo', repo, 'verify', '--all']);
    expect(verify.code).toBe(5);
  });

  it('sync replaces a truncated copy by its size and, with --verify-content, a copy with one flipped byte', async () => {
    const dir = await scratch();
    const repo = join(dir, 'repo');
    const source = join(dir, 'keys');
    await makeKeyTree(source);
    const storage = [
      { name: 'primary', type: 'local', path: 'objects' },
      { name: 'second', type: 'local', path: join(dir, 'second') },
    ];
    expect((await tresor(['--repo', repo, 'init', '--kdf', 'scrypt', '--storage', JSON.stringify(storage)])).code).toBe(0);
    const backupId = /backup (\S+) completed/.exec((await tresor(['--repo', repo, 'backup', source])).stdout)![1]!;
    const key = `archives/${backupId}.tra`;
    const inSecond = join(dir, 'second', key);
    const good = await readFile(inSecond);
    await chmod(inSecond, 0o600);

    await writeFile(inSecond, good.subarray(0, good.length - 7));
    const bySize = await tresor(['--repo', repo, 'storage', 'sync']);
    expect(bySize.code).toBe(0);
    expect(bySize.stdout).toContain(
      `repaired ${key} in second from primary (was: size ${good.length - 7}, expected ${good.length})\n`,
    );
    expect((await readFile(inSecond)).equals(good)).toBe(true);

    const flipped = Buffer.from(good);
    flipped[flipped.length >> 1]! ^= 0x01;
    await chmod(inSecond, 0o600);
    await writeFile(inSecond, flipped);
    // Same size: only reading the bytes finds it.
    expect((await tresor(['--repo', repo, 'storage', 'sync'])).stdout).toMatch(/^0 object\(s\) copied, 0 repaired, 0 failed/m);
    const byContent = await tresor(['--repo', repo, '--json', 'storage', 'sync', '--verify-content']);
    expect(byContent.code).toBe(0);
    expect(JSON.parse(byContent.stdout).repaired).toEqual([
      { key, to: 'second', from: 'primary', outcome: 'repaired', detail: expect.stringMatching(/^SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}$/) },
    ]);
    expect((await readFile(inSecond)).equals(good)).toBe(true);
    expect((await tresor(['--repo', repo, 'verify', '--all'])).code).toBe(0);
  });

  it('adds a location to a single-location repository and syncs it', async () => {
    const dir = await scratch();
    const repo = join(dir, 'repo');
    const source = join(dir, 'keys');
    await makeKeyTree(source);
    expect((await tresor(['--repo', repo, 'init', '--kdf', 'scrypt'])).code).toBe(0);
    expect((await tresor(['--repo', repo, 'backup', source])).code).toBe(0);
    const add = await tresor([
      '--repo',
      repo,
      'storage',
      'add',
      JSON.stringify({ name: 'copy', type: 'local', path: join(dir, 'copy') }),
    ]);
    expect(add.stdout).toMatch(
      /added storage location copy \(local:\S+\/copy\) to \S+; copy the existing objects with `tresor storage sync`/,
    );
    const twice = await tresor([
      '--repo',
      repo,
      'storage',
      'add',
      JSON.stringify({ name: 'copy', type: 'local', path: join(dir, 'other') }),
    ]);
    expect(twice.code).toBe(6);
    expect(twice.stderr).toMatch(/a storage location named copy already exists/);
    const sync = await tresor(['--repo', repo, '--json', 'storage', 'sync']);
    expect(JSON.parse(sync.stdout).copied.length).toBeGreaterThanOrEqual(3);
    const list = await tresor(['--repo', repo, '--json', 'storage', 'list']);
    expect(JSON.parse(list.stdout).locations.map((l: { name: string }) => l.name)).toEqual(['local', 'copy']);
    expect((await tresor(['--repo', repo, 'verify', '--all'])).code).toBe(0);
  });

  it('refuses bad storage settings with a message naming the field', async () => {
    const dir = await scratch();
    const cases: [string[], RegExp][] = [
      [
        ['--storage', '{"name":"x","type":"s3","bucket":"Bad"}'],
        /--storage: locations\.0: storage location x: s3 storage bucket: is not a valid S3 bucket name/,
      ],
      [['--storage', '[]'], /--storage: locations: name at least one location/],
      [['--storage', 'not json'], /--storage: not valid JSON/],
      [
        ['--storage', '{"name":"x","type":"local","path":"/x"}', '--write-policy', 'most'],
        /--write-policy 'most': choose all or quorum/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await tresor(['--repo', join(dir, 'repo'), 'init', '--kdf', 'scrypt', ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});
