import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDataKey } from '@tresor/crypto';
import { IoError, UsageError } from '@tresor/errors';
import {
  BACKUP_ID,
  collector,
  contentStream,
  CREATED_AT,
  dirEntry,
  DUMMY_KEY,
  fileMeta,
  leftovers,
  makeTmpDir,
  openArchive,
  readAll,
  toArray,
  writeArchive,
  removeTmpDirs,
} from './archive.fixtures.js';
import { until } from '../../../test/support/wait.js';
import { ArchiveWriter } from './writer.js';

afterAll(removeTmpDirs);

async function newWriter(out: Writable = collector().out, onTableLines?: (lines: Uint8Array) => void) {
  const tmpDir = await makeTmpDir();
  const dek = generateDataKey();
  const writer = await ArchiveWriter.create({
    backupId: BACKUP_ID,
    createdAt: CREATED_AT,
    dek,
    keys: [DUMMY_KEY],
    out,
    tmpDir,
    onTableLines,
  });
  return { writer, tmpDir, dek };
}

describe('ArchiveWriter', () => {
  it('reports the object hash and size of what reached `out`, and the table root', async () => {
    const { bytes, summary, entries } = await writeArchive([{ path: 'a.pem', content: Buffer.from('key') }]);
    expect(summary.objectBytes).toBe(bytes.length);
    expect(summary.entryCount).toBe(1);
    expect(summary.entriesRoot).toMatch(/^[0-9a-f]{64}$/);
    expect(entries[0]).toMatchObject({
      path: 'a.pem',
      size: 3,
      data: { backupId: BACKUP_ID, offset: 0, codec: 'zstd' },
    });
    expect(entries[0]!.sha256).toBe(createHash('sha256').update('key').digest('hex'));
  });

  it('shows the entry table as it is written, in chunks of whole lines that hash to entriesRoot', async () => {
    const chunks: Buffer[] = [];
    // Copied, as the contract asks: the buffer stays the writer's.
    const { writer } = await newWriter(collector().out, (lines) => chunks.push(Buffer.from(lines)));
    for (let i = 0; i < 3000; i++) await writer.addEntry(dirEntry(`d${String(i).padStart(4, '0')}`));
    const summary = await writer.finish();
    await writer.release();
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.at(-1)).toBe(0x0a);
    const table = Buffer.concat(chunks);
    expect(table.toString('utf8').split('\n').length - 1).toBe(summary.entryCount);
    expect(createHash('sha256').update(table).digest('hex')).toBe(summary.entriesRoot);
  });

  it('records the size actually read when a file changed size', async () => {
    const { writer } = await newWriter();
    const entry = await writer.addFile(
      fileMeta('grew.pem', 3),
      contentStream(Buffer.from('twelve bytes')),
      'gzip',
      6,
    );
    expect(entry.size).toBe(12);
    await writer.finish();
  });

  it('reads the written table back until release', async () => {
    const { writer } = await newWriter();
    await writer.addEntry(dirEntry('d'));
    await writer.addFile(fileMeta('d/k', 3), contentStream(Buffer.from('key')), 'gzip', 6);
    await writer.finish();
    const read = [];
    for await (const entry of writer.writtenEntries()) read.push(entry.path);
    expect(read).toEqual(['d', 'd/k']);
    await writer.release();
  });

  it('cleans up its spill directory after finish and release, and after abort', async () => {
    const done = await writeArchive([{ path: 'a', content: Buffer.from('x') }]);
    expect(await leftovers(done.tmpDir)).toEqual([]);
    const { writer, tmpDir } = await newWriter();
    await writer.addEntry(dirEntry('d'));
    await writer.abort();
    expect(await leftovers(tmpDir)).toEqual([]);
  });

  it('refuses invalid options and entries with UsageError', async () => {
    const base = {
      backupId: BACKUP_ID,
      createdAt: CREATED_AT,
      dek: generateDataKey(),
      keys: [DUMMY_KEY],
      out: collector().out,
      tmpDir: await makeTmpDir(),
    };
    await expect(ArchiveWriter.create({ ...base, backupId: '../x' })).rejects.toThrow(UsageError);
    await expect(ArchiveWriter.create({ ...base, keys: [] })).rejects.toThrow(/keys/);
    await expect(ArchiveWriter.create({ ...base, frameSize: 100 })).rejects.toThrow(/frameSize/);
    await expect(ArchiveWriter.create({ ...base, dek: randomBytes(16) })).rejects.toThrow(/32 bytes/);
    await expect(ArchiveWriter.create({ ...base, createdAt: 'yesterday' })).rejects.toThrow(/createdAt/);

    const { writer } = await newWriter();
    expect(() => writer.addEntry(dirEntry('../etc'))).toThrow(UsageError);
    expect(() => writer.addEntry({ ...dirEntry('d'), sha256: 'ab' })).toThrow(UsageError);
    await expect(
      writer.addFile({ ...fileMeta('/abs', 1) }, contentStream(Buffer.from('x')), 'gzip', 6),
    ).rejects.toThrow(/unsafe entry path/);
    await expect(
      writer.addFile(fileMeta('a', 1), contentStream(Buffer.from('x')), 'gzip', 10),
    ).rejects.toThrow(/out of range for gzip/);
    const future = {
      ...fileMeta('f', 1),
      sha256: '0'.repeat(64),
      data: { backupId: BACKUP_ID, offset: 0, length: 10, codec: 'none' as const },
    };
    expect(() => writer.addEntry(future)).toThrow(/has not written yet/);
    await writer.finish();
    expect(() => writer.addEntry(dirEntry('late'))).toThrow(/already finished/);
  });

  it('keeps going after one file fails to read, and reports it as IoError', async () => {
    const { out, bytes } = collector();
    const { writer, dek } = await newWriter(out);
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1000, 1));
        this.destroy(new Error('EIO: device went away'));
      },
    });
    await expect(writer.addFile(fileMeta('broken', 5000), failing, 'none', 0)).rejects.toThrow(IoError);
    const ok = await writer.addFile(fileMeta('ok', 2), contentStream(Buffer.from('ok')), 'none', 0);
    await writer.finish();
    const reader = await openArchive(bytes(), dek);
    expect((await readAll(reader.openContent(ok.data!))).toString()).toBe('ok');
    expect((await toArray(reader.entries())).map((e) => e.path)).toEqual(['ok']);
  });

  it('serialises concurrent addFile calls', async () => {
    const { out, bytes } = collector();
    const { writer, dek } = await newWriter(out);
    const contents = [randomBytes(200_000), randomBytes(150_000), randomBytes(10)];
    const entries = await Promise.all(
      contents.map((c, i) => writer.addFile(fileMeta(`f${i}`, c.length), contentStream(c, 7_000), 'none', 0)),
    );
    await writer.finish();
    const reader = await openArchive(bytes(), dek);
    for (const [i, entry] of entries.entries())
      expect((await readAll(reader.openContent(entry.data!))).equals(contents[i]!)).toBe(true);
  });

  it('fails with the output error when the output breaks, and cleans up', async () => {
    let written = 0;
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        done(written > 100_000 ? new Error('disk full') : null);
      },
    });
    const { writer, tmpDir } = await newWriter(out);
    const outcome = await writer
      .addFile(fileMeta('big', 1_000_000), contentStream(randomBytes(1_000_000)), 'none', 0)
      .then(() => writer.finish())
      .catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(IoError);
    expect((outcome as Error).message).toMatch(/disk full/);
    // The spill file is removed as the failed pipeline unwinds; a loaded machine can take a while.
    const left = await until('the spill file to be removed', 10_000, async () => {
      const files = await leftovers(tmpDir);
      return files.length === 0 ? files : undefined;
    }).catch(() => leftovers(tmpDir));
    expect(left).toEqual([]);
  });

  it('respects backpressure from a slow output', async () => {
    const parts: Buffer[] = [];
    const out = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, done) {
        parts.push(chunk);
        setTimeout(done, 1);
      },
    });
    const { writer, dek } = await newWriter(out);
    const content = randomBytes(600_000);
    const entry = await writer.addFile(fileMeta('slow', content.length), contentStream(content), 'none', 0);
    await writer.finish();
    const reader = await openArchive(Buffer.concat(parts), dek);
    expect((await readAll(reader.openContent(entry.data!))).equals(content)).toBe(true);
    expect((await toArray(reader.entries())).length).toBe(1);
  });
});
