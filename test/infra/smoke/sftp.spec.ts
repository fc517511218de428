import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import SftpClient from 'ssh2-sftp-client';
import { sftpDir, type SftpDir } from '../../support/infra.js';

describe('SFTP (OpenSSH) through ssh2-sftp-client', () => {
  let d: SftpDir;
  beforeEach(async () => {
    d = await sftpDir();
    onTestFinished(() => d.cleanup());
  });

  it('puts, lists and gets a file with key auth and a verified host key', async () => {
    const sftp = new SftpClient();
    try {
      await sftp.connect(d.connectConfig);
      const body = randomBytes(2 * 1024 * 1024 + 3);
      await sftp.put(body, `${d.dir}/a1.tresor`);
      const listing = await sftp.list(d.dir);
      expect(listing.map((f) => [f.name, f.size])).toEqual([['a1.tresor', body.length]]);
      const got = (await sftp.get(`${d.dir}/a1.tresor`)) as Buffer;
      expect(got.equals(body)).toBe(true);
    } finally {
      await sftp.end();
    }
  });

  it('refuses a server whose host key does not match', async () => {
    const sftp = new SftpClient();
    try {
      await expect(sftp.connect({ ...d.connectConfig, hostVerifier: () => false })).rejects.toThrow();
    } finally {
      await sftp.end().catch(() => undefined);
    }
  });
});
