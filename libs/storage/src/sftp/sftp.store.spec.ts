import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConflictError, IntegrityError } from '@tresor/errors';
import { describe, expect, it, onTestFinished, vi } from 'vitest';

// Slow transport on a shared 2-core machine: give each test more than the default minute.
vi.setConfig({ testTimeout: 180_000 });
import { infraEnv, sftpDir } from '../../../../test/support/infra.js';
import type { SftpDir } from '../../../../test/support/infra.js';
import { describeObjectStoreConformance } from '../conformance/index.js';
import { parseSftpConfig } from './config.js';
import type { SftpConfig } from './config.js';
import { SftpStore } from './sftp.store.js';

function configFor(sftp: SftpDir, extra: Record<string, unknown> = {}): SftpConfig {
  return parseSftpConfig({
    host: sftp.host,
    port: sftp.port,
    username: sftp.username,
    path: sftp.dir,
    privateKey: { file: infraEnv().TRESOR_TEST_SFTP_PRIVATE_KEY_FILE },
    hostKey: sftp.hostKey,
    ...extra,
  });
}

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tresor-sftp-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describeObjectStoreConformance('sftp (OpenSSH)', async () => {
  const sftp = await sftpDir();
  const store = await SftpStore.open(configFor(sftp));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await sftp.cleanup();
    },
  };
  // Each SFTP put is several round trips (temp upload, mkdir, rename) and the transfer is
  // encrypted in both processes on the same 2 cores: on the loaded CI machine 3,000 keys and a
  // 64 MiB object each ran past a minute. 300 keys still span many directories and pages, and
  // 16 MiB still streams through many SFTP packets without being held.
}, {
  manyKeys: 300,
  largeObjectBytes: 16 * 1024 * 1024,
  wrongCredentials: {
    message: /SFTP server 127\.0\.0\.1:\d+ refused the credentials/,
    make: async () => {
      const sftp = await sftpDir();
      const dir = await mkdtemp(join(tmpdir(), 'tresor-sftp-'));
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
      const privateKey = await readFile(join(dir, 'stranger'), 'utf8');
      return {
        open: () => SftpStore.open(configFor(sftp, { privateKey: { file: join(dir, 'stranger') } })),
        secrets: [privateKey.split('\n')[1]!],
        cleanup: async () => {
          await rm(dir, { recursive: true, force: true });
          await sftp.cleanup();
        },
      };
    },
  },
});

describe('SftpStore', () => {
  it('refuses a server whose host key is not the pinned one', async () => {
    const sftp = await sftpDir();
    onTestFinished(() => sftp.cleanup());
    const dir = await scratch();
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
    const otherKey = await readFile(join(dir, 'other.pub'), 'utf8');
    const failure = SftpStore.open(configFor(sftp, { hostKey: otherKey }));
    await expect(failure).rejects.toBeInstanceOf(IntegrityError);
    await expect(failure).rejects.toThrow(/host key of SFTP server 127\.0\.0\.1:\d+ does not match/);
  });

  it('finds the host key in a known_hosts file, plain or hashed', async () => {
    const sftp = await sftpDir();
    onTestFinished(() => sftp.cleanup());
    const dir = await scratch();
    const plain = join(dir, 'known_hosts');
    await writeFile(
      plain,
      `# comment\nother.example ${sftp.hostKey}\n[${sftp.host}]:${sftp.port} ${sftp.hostKey}\n`,
    );
    const hashed = join(dir, 'known_hosts_hashed');
    await writeFile(hashed, await readFile(plain));
    execFileSync('ssh-keygen', ['-q', '-H', '-f', hashed]);
    for (const file of [plain, hashed]) {
      const store = await SftpStore.open(configFor(sftp, { hostKey: undefined, knownHostsFile: file }));
      await store.put('x', randomBytes(3));
      await store.delete('x');
      await store.close();
    }
    await writeFile(plain, `other.example ${sftp.hostKey}\n`);
    await expect(
      SftpStore.open(configFor(sftp, { hostKey: undefined, knownHostsFile: plain })),
    ).rejects.toThrow(/has no key for 127\.0\.0\.1:\d+/);
  });

  it('reports an unreachable server as an IoError naming it', async () => {
    const sftp = await sftpDir();
    onTestFinished(() => sftp.cleanup());
    await expect(SftpStore.open(configFor(sftp, { port: 1 }))).rejects.toThrow(
      /SFTP server 127\.0\.0\.1:1 is unreachable \(ECONNREFUSED\)/,
    );
  });

  it('survives readers abandoned mid-stream when their connection closes', async () => {
    // ssh2 emits 'error' ("No response from server") on a destroyed read stream whose request was
    // still in flight when the connection closed; unhandled, that crashed the test process in CI.
    const sftp = await sftpDir();
    onTestFinished(() => sftp.cleanup());
    const store = await SftpStore.open(configFor(sftp));
    await store.put('big', randomBytes(8 * 1024 * 1024));
    const uncaught: unknown[] = [];
    const record = (err: unknown): void => void uncaught.push(err);
    process.prependListener('uncaughtException', record);
    onTestFinished(() => void process.removeListener('uncaughtException', record));
    for (let i = 0; i < 5; i++) {
      const stream = await store.get('big');
      await new Promise<void>((resolve) => stream.once('data', () => resolve()));
      stream.destroy();
    }
    await store.close();
    // The late callbacks come from the socket closing; give them a moment to fire.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(uncaught).toEqual([]);
  });

  it('reports a key that collides with a directory of keys as a conflict', async () => {
    const sftp = await sftpDir();
    onTestFinished(() => sftp.cleanup());
    const store = await SftpStore.open(configFor(sftp));
    onTestFinished(() => store.close());
    await store.put('a/b', randomBytes(1));
    await expect(store.put('a', randomBytes(1))).rejects.toBeInstanceOf(ConflictError);
    await expect(store.put('.tmp/x', randomBytes(1))).rejects.toThrow(/reserved/);
  });
});

describe('parseSftpConfig', () => {
  it.each([
    [
      { host: 'h', username: 'u', path: '/srv', privateKey: { env: 'K' } },
      /hostKey: give exactly one of hostKey or knownHostsFile/,
    ],
    [{ host: 'h', username: 'u', path: '/srv', hostKey: 'ssh-ed25519 AAAA' }, /privateKey: give exactly one/],
    [
      { host: 'h', username: 'u', path: 'rel', password: { env: 'P' }, hostKey: 'k' },
      /path: must be an absolute path/,
    ],
    [{ host: 'h', username: 'u', path: '/srv', password: 'inline-secret', hostKey: 'k' }, /password/],
  ])('rejects %j naming the field', (input, message) => {
    expect(() => parseSftpConfig(input)).toThrow(message);
  });
});
