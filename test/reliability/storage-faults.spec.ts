import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { backupJson, makeKeyTree, PASSPHRASE, removeDir, snapshotTree, tempDir, tresor } from '../../apps/cli/src/e2e/support.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import type { FaultProxy } from '../support/fault-proxy.js';
import { s3Bucket } from '../support/infra.js';
import type { S3Bucket } from '../support/infra.js';

/**
 * One storage location (S3, behind the fault-injecting proxy) slow, resetting or black-holed while
 * replicated backups run: the backup completes as its write policy says, the gap is reported, sync
 * repairs it once the location is back, and nothing is lost (fsck --read-data, byte-for-byte restore).
 */
describe('a storage location that is slow or unreachable', () => {
  let dir: string;
  let s3: S3Bucket;
  let proxy: FaultProxy;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await tempDir('tresor-storage-faults-');
    s3 = await s3Bucket();
    const endpoint = new URL(s3.config.endpoint);
    proxy = await startFaultProxy({ host: endpoint.hostname, port: Number(endpoint.port) });
    const credentials = s3.config.credentials as { accessKeyId: string; secretAccessKey: string };
    env = { FAULT_S3_KEY_ID: credentials.accessKeyId, FAULT_S3_SECRET: credentials.secretAccessKey };
  });
  afterAll(async () => {
    await proxy?.close();
    await s3?.cleanup();
    await removeDir(dir);
  });

  /** A repository whose locations are local `primary` (and `second`) plus `offsite` (S3 through the proxy). */
  const makeRepo = async (name: string, policy: 'all' | 'quorum', locals: string[], offsite: Record<string, unknown> = {}) => {
    const repo = join(dir, name);
    const storage = [
      ...locals.map((l) => ({ name: l, type: 'local', path: join(dir, `${name}-${l}`) })),
      {
        name: 'offsite',
        type: 's3',
        bucket: s3.bucket,
        prefix: `${name}/`,
        endpoint: proxy.url,
        forcePathStyle: true,
        credentials: { accessKeyId: { env: 'FAULT_S3_KEY_ID' }, secretAccessKey: { env: 'FAULT_S3_SECRET' } },
        ...offsite,
      },
    ];
    const init = await tresor(['--repo', repo, 'init', '--kdf', 'scrypt', '--storage', JSON.stringify(storage), '--write-policy', policy], env);
    expect(init.code, init.stderr).toBe(0);
    const source = join(dir, `${name}-keys`);
    await makeKeyTree(source);
    return { repo, source };
  };
  const restoresExactly = async (repo: string, backupId: string, source: string) => {
    const target = join(dir, `restore-${backupId}`);
    const restore = await tresor(['--repo', repo, 'restore', backupId, '--target', target], env);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await snapshotTree(target)).toEqual(await snapshotTree(source));
  };

  /**
   * The healthy locations are complete and intact (fsck --read-data finds only what offsite lacks),
   * `storage sync` repairs offsite, and the backup restores byte for byte.
   */
  const offsiteOnlyMissingThenSynced = async (repo: string, backupId: string, source: string) => {
    const before = await tresor(['--repo', repo, '--json', 'fsck', '--read-data'], env);
    expect(before.code).toBe(5);
    const findings = (JSON.parse(before.stdout) as { findings: { kind: string; location: string }[] }).findings;
    expect(new Set(findings.map((f) => `${f.kind}@${f.location}`))).toEqual(new Set(['missing@offsite']));
    const sync = await tresor(['--repo', repo, 'storage', 'sync'], env);
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    const after = await tresor(['--repo', repo, 'fsck', '--read-data'], env);
    expect(after.code, after.stdout + after.stderr).toBe(0);
    await restoresExactly(repo, backupId, source);
  };

  it('slow (latency on every chunk) under write policy all: the backup waits for it and completes', async () => {
    proxy.mode = 'pass';
    const { repo, source } = await makeRepo('slow', 'all', ['primary']);
    proxy.latencyMs = 25;
    onTestFinished(() => {
      proxy.latencyMs = 0;
    });
    const backup = await backupJson(repo, source, [], env);
    proxy.latencyMs = 0;
    expect(backup.warnings).toEqual([]);
    const fsck = await tresor(['--repo', repo, 'fsck', '--read-data'], env);
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
    await restoresExactly(repo, backup.backupId, source);
  });

  it('resetting every connection under quorum: the backup completes on the others, says so, sync repairs it', async () => {
    proxy.mode = 'pass';
    const { repo, source } = await makeRepo('reset', 'quorum', ['primary', 'second']);
    proxy.mode = 'reset';
    onTestFinished(() => {
      proxy.mode = 'pass';
    });
    const backup = await tresor(['--repo', repo, '--json', 'backup', source], env);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stderr).toMatch(/^warning: storage location offsite (could not be opened|missed archives\/\S+\.tra)/m);
    const backupId = (JSON.parse(backup.stdout) as { backupId: string }).backupId;

    proxy.mode = 'pass';
    await offsiteOnlyMissingThenSynced(repo, backupId, source);
  });

  it('reset mid-transfer under write policy all: the backup fails cleanly and leaves nothing visible', async () => {
    proxy.mode = 'pass';
    const { repo, source } = await makeRepo('midreset', 'all', ['primary']);
    // Big enough that the archive upload is still running when the connections are cut.
    await writeFile(join(source, 'big-keystore.bin'), Buffer.alloc(6 * 1024 * 1024, 0x5a));
    proxy.latencyMs = 5;
    const child = spawn(process.execPath, [BIN, '--repo', repo, 'backup', source, '--compression', 'none'], {
      env: { ...process.env, ...env, TRESOR_PASSPHRASE: PASSPHRASE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Cut once the upload has started, then refuse every new connection (the retries).
    while (proxy.stats.bytesForwarded < 512 * 1024 && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    proxy.mode = 'reset';
    proxy.resetOpen();
    const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? 1)));
    proxy.mode = 'pass';
    proxy.latencyMs = 0;
    expect(code, stderr).toBe(8);
    const list = await tresor(['--repo', repo, '--json', 'list'], env);
    expect(JSON.parse(list.stdout)).toEqual([]);
    const fsck = await tresor(['--repo', repo, '--json', 'fsck'], env);
    const findings = (JSON.parse(fsck.stdout) as { findings: { kind: string; location: string; key: string }[] }).findings;
    // Rolled back everywhere: no orphan archive left behind in either location.
    expect(findings).toEqual([]);
  });

  /** Runs a backup as a child process; 'hung' when it has not exited after `limitMs`. */
  const backupWithin = async (repo: string, source: string, limitMs: number) => {
    const child = spawn(process.execPath, [BIN, '--repo', repo, '--json', 'backup', source], {
      env: { ...process.env, ...env, TRESOR_PASSPHRASE: PASSPHRASE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | 'hung'>((done) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done('hung');
      }, limitMs);
      child.on('close', (c) => {
        clearTimeout(timer);
        done(c ?? 1);
      });
    });
    return { code, stdout, stderr };
  };

  // Six CLI runs after the backup (fsck, sync, fsck, restore…): generous for a loaded test machine.
  it('black-holed (accepts, never answers) under quorum: the backup completes on the others and names it', { timeout: 400_000 }, async () => {
    proxy.mode = 'pass';
    const { repo, source } = await makeRepo('blackhole', 'quorum', ['primary', 'second'], { timeoutSeconds: 2 });
    proxy.mode = 'blackhole';
    onTestFinished(() => {
      proxy.mode = 'pass';
    });
    const blackholedBefore = proxy.stats.blackholed;
    // Far beyond what 3 attempts of a 2 s timeout take; before the fix the backup never returned.
    const backup = await backupWithin(repo, source, 120_000);
    expect(backup.code, backup.stderr).toBe(0);
    expect(proxy.stats.blackholed).toBeGreaterThan(blackholedBefore);
    expect(backup.stderr).toMatch(/^warning: storage location offsite (could not be opened|missed \S+) \(.*did not answer within the location's timeoutSeconds/m);
    const backupId = (JSON.parse(backup.stdout) as { backupId: string }).backupId;

    proxy.mode = 'pass';
    await offsiteOnlyMissingThenSynced(repo, backupId, source);
  });

  it('black-holed under write policy all: the backup fails with exit 8 naming the location, nothing is committed', { timeout: 300_000 }, async () => {
    proxy.mode = 'pass';
    const { repo, source } = await makeRepo('blackhole-all', 'all', ['primary'], { timeoutSeconds: 2 });
    proxy.mode = 'blackhole';
    onTestFinished(() => {
      proxy.mode = 'pass';
    });
    const backup = await backupWithin(repo, source, 120_000);
    expect(backup.code, backup.stderr).toBe(8);
    expect(backup.stderr).toMatch(/offsite.*did not answer within the location's timeoutSeconds/);
    proxy.mode = 'pass';
    const list = await tresor(['--repo', repo, '--json', 'list'], env);
    expect(JSON.parse(list.stdout)).toEqual([]);
    const fsck = await tresor(['--repo', repo, '--json', 'fsck'], env);
    expect((JSON.parse(fsck.stdout) as { findings: unknown[] }).findings).toEqual([]);
  });
});

const BIN = resolve(fileURLToPath(import.meta.url), '../../../bin/tresor.mjs');
