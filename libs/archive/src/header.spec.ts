import { describe, expect, it } from 'vitest';
import { IntegrityError, UnsupportedError } from '@tresor/errors';
import { makeHeader } from './archive.fixtures.js';
import { ARCHIVE_MAGIC, PRELUDE_SIZE } from './format.js';
import { archiveStreamInfo, encodeHeader, readHeader } from './header.js';
import { bufferSource } from './random-access-source.js';

describe('archive header', () => {
  it('is magic, u16 BE version, u32 BE length and canonical JSON', async () => {
    const header = makeHeader();
    const bytes = encodeHeader(header);
    expect(bytes.subarray(0, 8).equals(ARCHIVE_MAGIC)).toBe(true);
    expect(bytes.readUInt16BE(8)).toBe(1);
    expect(bytes.readUInt32BE(10)).toBe(bytes.length - PRELUDE_SIZE);
    expect(bytes.subarray(PRELUDE_SIZE).toString().startsWith('{"backupId":')).toBe(true);
    expect(await readHeader(bufferSource(bytes))).toEqual({ header, payloadStart: bytes.length });
  });

  it('binds every field but the wrapped keys into the stream info', () => {
    const header = makeHeader();
    const info = archiveStreamInfo(header);
    expect(info).toMatch(/^tresor\/v1\/archive:20261126T045300Z-3f9a1c2b:[0-9a-f]{64}$/);
    expect(archiveStreamInfo({ ...header, keys: [] })).toBe(info);
    expect(archiveStreamInfo({ ...header, createdAt: '2026-11-26T04:53:01.000Z' })).not.toBe(info);
  });

  it('rejects bad magic, versions and header shapes', async () => {
    const bytes = encodeHeader(makeHeader());
    const newer = Buffer.from(bytes);
    newer.writeUInt16BE(7, 8);
    await expect(readHeader(bufferSource(newer))).rejects.toThrow(UnsupportedError);
    const zero = Buffer.from(bytes);
    zero.writeUInt16BE(0, 8);
    await expect(readHeader(bufferSource(zero))).rejects.toThrow(/version 0 does not exist/);
    await expect(readHeader(bufferSource(bytes.subarray(0, bytes.length - 1)))).rejects.toThrow(
      /runs past the end/,
    );
    const bad = encodeHeader({ ...makeHeader(), frameSize: 100 });
    await expect(readHeader(bufferSource(bad))).rejects.toThrow(/archive header is invalid: frameSize/);
    const noKeys = encodeHeader({ ...makeHeader(), keys: [] });
    await expect(readHeader(bufferSource(noKeys))).rejects.toThrow(IntegrityError);
  });
});
