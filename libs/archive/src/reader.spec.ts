import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FRAME_SIZE, generateDataKey } from '@tresor/crypto';
import { IntegrityError, UsageError } from '@tresor/errors';
import {
  BACKUP_ID,
  dirEntry,
  makeTmpDir,
  openArchive,
  readAll,
  toArray,
  writeArchive,
  removeTmpDirs,
} from './archive.fixtures.js';
import type { FileSpec, WrittenArchive } from './archive.fixtures.js';
import { CODECS } from './codecs/index.js';
import type { Codec, Entry } from './entry.js';
import { PayloadFrames } from './payload-frames.js';
import { bufferSource, fileSource } from './random-access-source.js';
import type { RandomAccessSource } from './random-access-source.js';
import { ArchiveReader, VerifiedTable } from './reader.js';
import { readVerifiedContent, verifyContent } from './verified-content.js';

afterAll(removeTmpDirs);

const compressible = Buffer.from(
  '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oWn\n'.repeat(3500),
);
const bigFile = Buffer.concat([randomBytes(150 * 1024), compressible.subarray(0, 150 * 1024)]);

const codecFiles: FileSpec[] = Object.entries(CODECS).flatMap(([codec, l]) =>
  [...new Set([l.minLevel, l.defaultLevel, l.maxLevel])].map((level) => ({
    path: `codecs/${codec}-${level}.pem`,
    content: compressible.subarray(0, 20_000 + level),
    codec: codec as Codec,
    level,
  })),
);

describe('ArchiveReader round trip', () => {
  let archive: WrittenArchive;
  beforeAll(async () => {
    archive = await writeArchive(
      [
        { path: 'empty', content: Buffer.alloc(0) },
        { path: 'one', content: Buffer.from('1'), codec: 'gzip', level: 6 },
        { path: 'keys/big.bin', content: bigFile, codec: 'zstd', level: 3 },
        // Past the writer's 256 KiB gather of small payload writes, between small files.
        { path: 'keys/random.bin', content: randomBytes(600 * 1024), codec: 'zstd', level: 3 },
        ...codecFiles,
        { path: 'tail', content: Buffer.from('last file'), codec: 'none', level: 0 },
      ],
      {
        extra: (written) => [
          dirEntry('keys'),
          {
            ...dirEntry('keys/dup.bin'),
            type: 'file',
            size: bigFile.length,
            sha256: written[2]!.sha256,
            data: written[2]!.data,
          },
          { ...dirEntry('link'), type: 'symlink', size: 4, linkTarget: 'keys/big.bin' },
        ],
      },
    );
  });

  it('spans several frames', () => {
    expect(archive.summary.payloadBytes).toBeGreaterThan(2 * FRAME_SIZE);
  });

  it('lists every entry in the order added, matching what the writer returned', async () => {
    const reader = await openArchive(archive.bytes, archive.dek, {
      expectedEntriesRoot: archive.summary.entriesRoot,
    });
    expect(reader.backupId).toBe(BACKUP_ID);
    expect(reader.header.createdAt).toBe('2026-11-26T04:53:00.000Z');
    const entries = await toArray(reader.entries());
    expect(entries).toEqual(JSON.parse(JSON.stringify(archive.entries)));
    expect(entries.length).toBe(archive.summary.entryCount);
  });

  it('restores every file at every codec and level, including 0 and 1 byte files', async () => {
    const reader = await openArchive(archive.bytes, archive.dek);
    for (const entry of archive.entries.filter((e) => e.type === 'file')) {
      const content = await readAll(readVerifiedContent(reader, entry));
      expect(content.length).toBe(entry.size);
      expect(createHash('sha256').update(content).digest('hex')).toBe(entry.sha256);
    }
  });

  it('reads a deduplicated entry through the data reference it shares', async () => {
    const reader = await openArchive(archive.bytes, archive.dek);
    const dup = (await toArray(reader.entries())).find((e) => e.path === 'keys/dup.bin')!;
    expect((await readAll(readVerifiedContent(reader, dup))).equals(bigFile)).toBe(true);
  });

  it('decrypts only the frames of the entry asked for', async () => {
    const source = countingSource(bufferSource(archive.bytes));
    const reader = await ArchiveReader.open(source, async () => archive.dek);
    const opened = source.bytesRead;
    const middle = archive.entries.find((e) => e.path === 'codecs/xz-6.pem')!;
    const content = await readAll(readVerifiedContent(reader, middle));
    expect(content.length).toBe(middle.size);
    expect(source.bytesRead - opened).toBeLessThanOrEqual(2 * (FRAME_SIZE + 16));
  });

  it('checks the table against the expected entriesRoot', async () => {
    const reader = await openArchive(archive.bytes, archive.dek, { expectedEntriesRoot: 'f'.repeat(64) });
    await expect(toArray(reader.entries())).rejects.toThrow(
      /entry table hash .* does not match the manifest's entriesRoot/,
    );
    await expect(
      toArray(reader.entries({ expectedEntriesRoot: archive.summary.entriesRoot })),
    ).resolves.toHaveLength(archive.entries.length);
  });

  it('reads a table again from the record of a verified read, and refuses it once a chunk differs', async () => {
    const reader = await openArchive(archive.bytes, archive.dek);
    const verified = new VerifiedTable();
    const first = await toArray(reader.entries({ expectedEntriesRoot: archive.summary.entriesRoot, recordInto: verified }));
    expect(verified.matchedRoot).toBe(true);
    expect(verified.chunkDigests.length).toBeGreaterThan(0);
    expect(await toArray(reader.entries({ verified }))).toEqual(first);

    verified.chunkDigests[0] = Buffer.alloc(32);
    const yielded: Entry[] = [];
    await expect(
      (async () => {
        for await (const entry of reader.entries({ verified })) yielded.push(entry);
      })(),
    ).rejects.toThrow(/entry table changed since it was verified \(chunk 0\)/);
    expect(yielded).toEqual([]);
  });

  it('gives the table lines unparsed, numbered, checked against the root, and parses one as entries() does', async () => {
    const reader = await openArchive(archive.bytes, archive.dek);
    const lines: Buffer[] = [];
    let next = 1;
    for await (const { first, lines: chunk } of reader.entryLines({ expectedEntriesRoot: archive.summary.entriesRoot })) {
      expect(first).toBe(next);
      next += chunk.length;
      lines.push(...chunk);
    }
    expect(lines.map((line, i) => reader.parseEntryLine(line, i + 1))).toEqual(await toArray(reader.entries()));
    expect(() => reader.parseEntryLine(Buffer.from('{"path":"../x"'), 7)).toThrow(
      new IntegrityError(`archive ${BACKUP_ID}: entry table line 7 is not valid JSON`),
    );
    const unsafe = Buffer.from(JSON.stringify({ ...dirEntry('../escape') }));
    expect(() => reader.parseEntryLine(unsafe, 3)).toThrow(/^archive .*: entry table line 3: unsafe entry path/);
    await expect(toArray(reader.entryLines({ expectedEntriesRoot: 'f'.repeat(64) }))).rejects.toThrow(
      /entry table hash .* does not match the manifest's entriesRoot/,
    );
  });

  it('hands out a small content from a frame it just opened without going through the frame reader again', async () => {
    const reader = await openArchive(archive.bytes, archive.dek);
    const ranges = vi.spyOn(PayloadFrames.prototype, 'readRange');
    try {
      const one = archive.entries.find((e) => e.path === 'one')!;
      const stored = await reader.readSmallCompressed(one.data!, one.size);
      expect(ranges).toHaveBeenCalledTimes(1);
      expect((await reader.readSmallCompressed(one.data!, one.size))?.equals(stored!)).toBe(true);
      expect(ranges).toHaveBeenCalledTimes(1);
      // A content across two frames is put together by the frame reader every time.
      const big = archive.entries.find((e) => e.path === 'keys/big.bin')!;
      expect(Math.floor(big.data!.offset / FRAME_SIZE)).toBeLessThan(Math.floor((big.data!.offset + big.data!.length - 1) / FRAME_SIZE));
      await reader.readSmallCompressed(big.data!, big.size);
      await reader.readSmallCompressed(big.data!, big.size);
      expect(ranges).toHaveBeenCalledTimes(3);
    } finally {
      ranges.mockRestore();
    }
  });

  it('refuses a table record that never matched a root as verified', async () => {
    const reader = await openArchive(archive.bytes, archive.dek);
    const unchecked = new VerifiedTable();
    await toArray(reader.entries({ recordInto: unchecked }));
    expect(unchecked.matchedRoot).toBe(false);
    await expect(toArray(reader.entries({ verified: unchecked }))).rejects.toThrow(UsageError);

    const wrongRoot = new VerifiedTable();
    await expect(
      toArray(reader.entries({ expectedEntriesRoot: 'f'.repeat(64), recordInto: wrongRoot })),
    ).rejects.toThrow(IntegrityError);
    expect(wrongRoot.matchedRoot).toBe(false);
  });

  it('verifies every frame of the payload', async () => {
    const reader = await openArchive(archive.bytes, archive.dek);
    const report = await reader.verifyPayload();
    expect(report.payloadBytes).toBe(archive.summary.payloadBytes);
    expect(report.frames).toBe(Math.ceil(archive.summary.payloadBytes / FRAME_SIZE));
  });

  it('refuses data references into other archives or past the contents', async () => {
    const reader = await openArchive(archive.bytes, archive.dek);
    const ref = archive.entries[2]!.data!;
    expect(() => reader.openContent({ ...ref, backupId: 'other' })).toThrow(UsageError);
    expect(() => reader.openContent({ ...ref, offset: archive.summary.payloadBytes })).toThrow(
      IntegrityError,
    );
  });

  it('reports content that does not match its entry, naming the entry', async () => {
    const reader = await openArchive(archive.bytes, archive.dek);
    const big = archive.entries[2]!;
    await expect(readAll(readVerifiedContent(reader, { ...big, sha256: '0'.repeat(64) }))).rejects.toThrow(
      "entry 'keys/big.bin' in archive 20261126T045300Z-3f9a1c2b: content does not match its recorded SHA-256",
    );
    await expect(readAll(readVerifiedContent(reader, { ...big, size: 10 }))).rejects.toThrow(
      /longer than its recorded 10 bytes/,
    );
    await expect(readAll(readVerifiedContent(reader, { ...big, size: big.size + 1 }))).rejects.toThrow(
      IntegrityError,
    );
  });

  it('verifies every file entry in one go, at every codec, with the errors of the streaming check', async () => {
    const reader = await openArchive(archive.bytes, archive.dek);
    const files = archive.entries.filter((e) => e.type === 'file');
    for (const entry of files) await verifyContent(reader, entry);
    for (const entry of files.filter((e) => e.size > 1)) {
      await expect(verifyContent(reader, { ...entry, sha256: '0'.repeat(64) })).rejects.toThrow(
        `entry '${entry.path}' in archive 20261126T045300Z-3f9a1c2b: content does not match its recorded SHA-256`,
      );
      await expect(verifyContent(reader, { ...entry, size: entry.size + 1 })).rejects.toThrow(IntegrityError);
    }
    const big = archive.entries[2]!;
    await expect(verifyContent(reader, { ...big, size: 10 })).rejects.toThrow(IntegrityError);
    await expect(verifyContent(reader, dirEntry('keys'))).rejects.toThrow(UsageError);
  });

  it('reads the payload in a few batched reads when entries are checked in order, several at once', async () => {
    const many = await writeArchive(
      Array.from({ length: 400 }, (_, i) => ({
        path: `k/${i.toString().padStart(4, '0')}.pem`,
        content: randomBytes(3000),
        codec: 'zstd' as Codec,
        level: 3,
      })),
    );
    const source = countingSource(bufferSource(many.bytes));
    const reader = await ArchiveReader.open(source, async () => many.dek);
    const opened = source.reads;
    const files = many.entries.filter((e) => e.type === 'file');
    for (let i = 0; i < files.length; i += 8) {
      await Promise.all(files.slice(i, i + 8).map((entry) => verifyContent(reader, entry)));
    }
    // 1.2 MB of contents: a few 1 MiB batches, not a read per entry or per frame.
    expect(source.reads - opened).toBeLessThanOrEqual(4);
  });

  it('reads from a local file', async () => {
    const path = join(await makeTmpDir(), 'a.tra');
    await writeFile(path, archive.bytes);
    const source = await fileSource(path);
    try {
      const reader = await ArchiveReader.open(source, async () => archive.dek);
      expect((await toArray(reader.entries())).length).toBe(archive.entries.length);
    } finally {
      await source.close();
    }
  });
});

describe('ArchiveReader with many entries', () => {
  it('streams a 20,000-entry table spilled to disk', async () => {
    const count = 20_000;
    const archive = await writeArchive([{ path: 'seed', content: Buffer.from('seed') }], {
      extra: () =>
        Array.from({ length: count }, (_, i): Entry => dirEntry(`d/${i.toString().padStart(6, '0')}`)),
    });
    expect(archive.summary.entryCount).toBe(count + 1);
    const reader = await openArchive(archive.bytes, archive.dek, {
      expectedEntriesRoot: archive.summary.entriesRoot,
    });
    let seen = 0;
    let last = '';
    for await (const entry of reader.entries()) {
      seen++;
      last = entry.path;
    }
    expect(seen).toBe(count + 1);
    expect(last).toBe('d/019999');
  });
});

describe('ArchiveReader frame sizes', () => {
  it('round-trips with a 4 KiB frame size', async () => {
    const content = randomBytes(50_000);
    const archive = await writeArchive([{ path: 'x', content, codec: 'none', level: 0 }], {
      frameSize: 4096,
    });
    const reader = await openArchive(archive.bytes, archive.dek);
    expect(reader.header.frameSize).toBe(4096);
    expect((await readAll(readVerifiedContent(reader, archive.entries[0]!))).equals(content)).toBe(true);
    expect((await reader.verifyPayload()).frames).toBeGreaterThan(12);
  });

  it('handles an archive with no entries at all', async () => {
    const archive = await writeArchive([]);
    const reader = await openArchive(archive.bytes, archive.dek, {
      expectedEntriesRoot: archive.summary.entriesRoot,
    });
    expect(await toArray(reader.entries())).toEqual([]);
    expect(archive.summary.entriesRoot).toBe(createHash('sha256').digest('hex'));
  });

  it('fails with the wrong data key', async () => {
    const archive = await writeArchive([{ path: 'x', content: Buffer.from('x') }]);
    await expect(openArchive(archive.bytes, generateDataKey())).rejects.toThrow(IntegrityError);
    await expect(openArchive(archive.bytes, generateDataKey())).rejects.toThrow(
      /archive 20261126T045300Z-3f9a1c2b: frame 0 failed authentication/,
    );
  });
});

function countingSource(inner: RandomAccessSource): RandomAccessSource & { bytesRead: number; reads: number } {
  const counting = {
    size: inner.size,
    bytesRead: 0,
    reads: 0,
    async read(offset: number, length: number) {
      counting.bytesRead += length;
      counting.reads++;
      return inner.read(offset, length);
    },
  };
  return counting;
}
