import { randomBytes } from 'node:crypto';
import { IoError } from '@tresor/errors';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ftpDir, infraEnv } from '../../../../test/support/infra.js';
import type { FtpDir } from '../../../../test/support/infra.js';
import { describeObjectStoreConformance, readAll } from '../conformance/index.js';
import { parseFtpConfig } from './config.js';
import type { FtpConfig } from './config.js';
import { FtpStore } from './ftp.store.js';

function configFor(ftp: FtpDir, extra: Record<string, unknown> = {}): FtpConfig {
  process.env.TRESOR_SPEC_FTP_PASSWORD = ftp.access.password;
  return parseFtpConfig({
    host: ftp.access.host,
    port: ftp.access.port,
    username: ftp.access.user,
    password: { env: 'TRESOR_SPEC_FTP_PASSWORD' },
    path: ftp.dir,
    caFile: infraEnv().TRESOR_TEST_TLS_CA_FILE,
    connections: 4,
    ...extra,
  });
}

describeObjectStoreConformance('ftp (vsftpd, explicit TLS)', async () => {
  const ftp = await ftpDir();
  const store = await FtpStore.open(configFor(ftp));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await ftp.cleanup();
    },
  };
}, {
  wrongCredentials: {
    message: /FTP server 127\.0\.0\.1:\d+ refused the credentials \(530\)/,
    make: async () => {
      const ftp = await ftpDir();
      process.env.TRESOR_SPEC_FTP_WRONG = 'wrong-password-0123456789';
      return {
        open: () => FtpStore.open({ ...configFor(ftp), password: { env: 'TRESOR_SPEC_FTP_WRONG' } }),
        secrets: ['wrong-password', ftp.access.password!],
        cleanup: () => ftp.cleanup(),
      };
    },
  },
});

describe('FtpStore', () => {
  it('refuses a server certificate it cannot verify', async () => {
    const ftp = await ftpDir();
    onTestFinished(() => ftp.cleanup());
    const failure = FtpStore.open({ ...configFor(ftp), caFile: undefined });
    await expect(failure).rejects.toBeInstanceOf(IoError);
    await expect(failure).rejects.toThrow(/TLS with FTP server 127\.0\.0\.1:\d+ failed .*set caFile/);
  });

  it('reads a range in the middle of a large object and stays usable', async () => {
    const ftp = await ftpDir();
    onTestFinished(() => ftp.cleanup());
    const store = await FtpStore.open(configFor(ftp, { connections: 1 }));
    onTestFinished(() => store.close());
    const bytes = randomBytes(4 * 1024 * 1024);
    await store.put('big.bin', bytes);
    for (let i = 0; i < 3; i++) {
      const part = await readAll(await store.get('big.bin', { offset: 1000 + i, length: 5000 }));
      expect(part.equals(bytes.subarray(1000 + i, 6000 + i))).toBe(true);
    }
    expect(await store.head('big.bin')).toMatchObject({ size: bytes.length });
  });
});

describe('parseFtpConfig', () => {
  it('defaults to explicit TLS', () => {
    expect(parseFtpConfig({ host: 'h', username: 'u', password: { env: 'P' }, path: '/' })).toMatchObject({
      secure: 'explicit',
      port: 21,
    });
  });

  it.each([
    [{ host: 'h', username: 'u', password: 'inline', path: '/' }, /password/],
    [{ host: 'h', username: 'u', password: { env: 'P' }, path: 'rel' }, /path: must be an absolute path/],
    [{ host: 'h', username: 'u', password: { env: 'P' }, path: '/', secure: 'yes' }, /secure/],
  ])('rejects %j naming the field', (input, message) => {
    expect(() => parseFtpConfig(input)).toThrow(message);
  });
});
