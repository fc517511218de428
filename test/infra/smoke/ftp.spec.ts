import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { Client } from 'basic-ftp';
import { ftpDir, type FtpDir } from '../../support/infra.js';

describe('FTP with explicit TLS (vsftpd) through basic-ftp', () => {
  let d: FtpDir;
  beforeEach(async () => {
    d = await ftpDir();
    onTestFinished(() => d.cleanup());
  });

  it('puts, lists and gets a file over explicit FTPS with a verified certificate', async () => {
    const client = new Client(15_000);
    try {
      await client.access(d.access);
      expect(client.ftp.socket).toBeInstanceOf(TLSSocket);
      const body = randomBytes(1024 * 1024 + 11);
      await client.uploadFrom(Readable.from(body), `${d.dir}/a1.tresor`);
      const listing = await client.list(d.dir);
      expect(listing.map((f) => [f.name, f.size])).toEqual([['a1.tresor', body.length]]);
      const sink = new PassThrough();
      const chunks: Buffer[] = [];
      sink.on('data', (c: Buffer) => chunks.push(c));
      await client.downloadTo(sink, `${d.dir}/a1.tresor`);
      expect(Buffer.concat(chunks).equals(body)).toBe(true);
    } finally {
      client.close();
    }
  });

  it('refuses a plain-text login', async () => {
    const client = new Client(15_000);
    try {
      await expect(client.access({ ...d.access, secure: false })).rejects.toThrow(/530|SSL|TLS|encrypt/i);
    } finally {
      client.close();
    }
  });
});
