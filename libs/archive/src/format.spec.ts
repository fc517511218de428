// An independent reader written from docs/format.md with node:crypto and node:zlib only: if this
// passes, the page describes the bytes the writer produces.
import { createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { writeArchive, removeTmpDirs } from './archive.fixtures.js';

afterAll(removeTmpDirs);

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function openFrame(key: Buffer, index: number, sealed: Buffer, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(index), 3);
  nonce[11] = last ? 1 : 0;
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}

describe('docs/format.md', () => {
  it('is enough to decrypt and verify an archive', async () => {
    const content = Buffer.from('-----BEGIN PRIVATE KEY-----\n'.repeat(5000));
    const written = await writeArchive([{ path: 'keys/a.pem', content, codec: 'gzip', level: 9 }], {
      frameSize: 4096,
    });
    const object = written.bytes;

    // §3 prelude and §4 header.
    expect(object.toString('ascii', 0, 8)).toBe('TRSRARC1');
    expect(object.readUInt16BE(8)).toBe(1);
    const h = object.readUInt32BE(10);
    const headerText = object.toString('utf8', 14, 14 + h);
    const header = JSON.parse(headerText) as Record<string, unknown> & {
      backupId: string;
      frameSize: number;
      streamSalt: string;
    };
    expect(canonical(header)).toBe(headerText);

    // §4.1 payload key.
    const { keys: _keys, ...bound } = header;
    const binding = createHash('sha256').update(canonical(bound)).digest('hex');
    const info = Buffer.from(`tresor/v1/archive:${header.backupId}:${binding}`);
    const key = Buffer.from(
      hkdfSync('sha256', written.dek, Buffer.from(header.streamSalt, 'base64'), info, 32),
    );

    // §5 layout and frames.
    const sealedSize = header.frameSize + 16;
    const stream = object.subarray(14 + h);
    const n = Math.ceil(stream.length / sealedSize);
    const frames: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      frames.push(openFrame(key, i, stream.subarray(i * sealedSize, (i + 1) * sealedSize), i === n - 1));
    }
    const payload = Buffer.concat(frames);

    // §6 footer, §7 table and entriesRoot.
    const footer = payload.subarray(payload.length - 24);
    expect(footer.toString('ascii', 0, 8)).toBe('TRSRIDX1');
    const tableOffset = Number(footer.readBigUInt64BE(8));
    const tableLength = Number(footer.readBigUInt64BE(16));
    expect(tableOffset + tableLength).toBe(payload.length - 24);
    const table = payload.subarray(tableOffset, tableOffset + tableLength);
    expect(createHash('sha256').update(table).digest('hex')).toBe(written.summary.entriesRoot);
    const [line, rest] = table.toString('utf8').split('\n');
    expect(rest).toBe('');
    const entry = JSON.parse(line!) as {
      sha256: string;
      size: number;
      data: { offset: number; length: number };
    };
    expect(canonical(entry)).toBe(line);

    // §8 content.
    const stored = payload.subarray(entry.data.offset, entry.data.offset + entry.data.length);
    const plain = gunzipSync(stored);
    expect(plain.length).toBe(entry.size);
    expect(createHash('sha256').update(plain).digest('hex')).toBe(entry.sha256);
  });
});
