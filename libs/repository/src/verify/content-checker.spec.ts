import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { Compressor } from 'zstd-napi';
import { ArchiveReader, ArchiveWriter, bufferSource } from '@tresor/archive';
import type { Entry } from '@tresor/archive';
import { generateDataKey } from '@tresor/crypto';
import { IntegrityError } from '@tresor/errors';
import { ContentCheckPool } from './check-pool.js';
import { ContentChecker } from './content-checker.js';

const BACKUP = '20261126T200000Z-0c0ffee0';

/** A zstd frame as the writer makes it (level 3, checksum), with or without its content size. */
function zstdFrame(content: Buffer, declareSize = true): Buffer {
  const compressor = new Compressor();
  compressor.setParameters({ compressionLevel: 3, checksumFlag: true, contentSizeFlag: declareSize });
  return compressor.compress(content);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * An archive whose contents are stored as given: a hostile or damaged one can record a SHA-256 or
 * a frame that does not match the file (addPrepared trusts what it is handed).
 */
async function archiveOf(files: { path: string; content: Buffer; frame: Buffer; sha256?: string }[]): Promise<{ reader: ArchiveReader; entries: Entry[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'content-checker-'));
  const parts: Buffer[] = [];
  const out = new Writable({ write: (chunk: Buffer, _e, done) => (parts.push(chunk), done()) });
  const dek = generateDataKey();
  const writer = await ArchiveWriter.create({ backupId: BACKUP, createdAt: '2026-11-26T20:00:00.000Z', dek, keys: [{ type: 'rsa-oaep-sha256', kekId: 'rsa:test', ciphertext: 'AAAA' }], out, tmpDir: dir });
  const entries: Entry[] = [];
  for (const file of files) {
    const meta = { path: file.path, type: 'file' as const, mode: 0o600, uid: 0, gid: 0, mtimeNs: '0', size: file.content.length, ino: 1 };
    entries.push(await writer.addPrepared(meta, { size: file.content.length, sha256: file.sha256 ?? sha256(file.content), compressed: file.frame }, 'zstd', 3));
  }
  await writer.finish();
  await writer.release();
  await rm(dir, { recursive: true, force: true });
  const reader = await ArchiveReader.open(bufferSource(Buffer.concat(parts)), async () => dek);
  return { reader, entries };
}

/** A run that opens only `reader`, with the contents it checked and the table lines it recorded. */
function runOver(reader: ArchiveReader, known: Entry[] = []) {
  const checked = new Set<string>(known.map((entry) => entry.path));
  const lines = new Set<string>();
  return {
    checked,
    lines,
    has: (entry: Entry) => checked.has(entry.path),
    add: (entry: Entry, line?: string) => {
      checked.add(entry.path);
      if (line !== undefined) lines.add(line);
    },
    archives: { open: async () => reader },
  };
}

/** Checks every entry, giving each the line key `line <i>`. */
async function checkAll(reader: ArchiveReader, entries: Entry[], known: Entry[] = []) {
  const run = runOver(reader, known);
  const checker = new ContentChecker(run, BACKUP);
  const error = await (async () => {
    for (const [i, entry] of entries.entries()) await checker.add(entry, `line ${i}`);
    await checker.finish();
  })().then(
    () => undefined,
    (err: unknown) => err,
  );
  return { error, checked: run.checked, lines: run.lines };
}

describe('ContentChecker (deep verify of contents on the verify threads)', () => {
  const good = Array.from({ length: 150 }, (_, i) => {
    const content = randomBytes(200 + i * 7);
    return { path: `tenants/t/app/k${String(i).padStart(3, '0')}.pem`, content, frame: zstdFrame(content) };
  });

  it('accepts every intact content, in groups larger than one message, and records each', async () => {
    const { reader, entries } = await archiveOf(good);
    const { error, checked } = await checkAll(reader, entries);
    expect(error).toBeUndefined();
    expect(checked.size).toBe(150);
  });

  it("records each entry's table line once its content checked out, or was already checked in the run", async () => {
    const { reader, entries } = await archiveOf(good.slice(0, 3));
    const { error, lines } = await checkAll(reader, entries, [entries[1]!]);
    expect(error).toBeUndefined();
    expect([...lines].sort()).toEqual(['line 0', 'line 1', 'line 2']);
  });

  it('names the first entry in table order whose content does not match its SHA-256', async () => {
    const files = good.map((f, i) => (i === 97 || i === 120 ? { ...f, sha256: sha256(Buffer.from('something else')) } : f));
    const { reader, entries } = await archiveOf(files);
    const { error, checked, lines } = await checkAll(reader, entries);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toBe(`backup ${BACKUP}: entry '${files[97]!.path}' in archive ${BACKUP}: content does not match its recorded SHA-256`);
    expect(checked.has(files[97]!.path)).toBe(false);
    // A line whose content failed is never taken as checked by a later backup of the run.
    expect(lines.has('line 97')).toBe(false);
    expect(lines.has('line 96')).toBe(true);
  });

  it('reports a frame zstd cannot decode as corrupt zstd data', async () => {
    const content = randomBytes(500);
    const frame = zstdFrame(content);
    frame[frame.length - 20]! ^= 0xff;
    const { reader, entries } = await archiveOf([{ path: 'bad.key', content, frame }]);
    const { error } = await checkAll(reader, entries);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toMatch(new RegExp(`^backup ${BACKUP}: corrupt zstd data: `));
  });

  it('checks a frame that does not declare its size on the main thread, with the same verdicts', async () => {
    const content = randomBytes(800);
    const intact = await archiveOf([{ path: 'streamed.key', content, frame: zstdFrame(content, false) }]);
    expect((await checkAll(intact.reader, intact.entries)).error).toBeUndefined();
    const longer = Buffer.concat([content, Buffer.from('x')]);
    const damaged = await archiveOf([{ path: 'streamed.key', content, frame: zstdFrame(longer, false) }]);
    expect(String((await checkAll(damaged.reader, damaged.entries)).error)).toContain('content is longer than its recorded 800 bytes');
  });
});

describe('ContentCheckPool', () => {
  let pool: ContentCheckPool;
  beforeAll(() => {
    pool = new ContentCheckPool(2);
  });

  it('gives length and SHA-256 of each frame, in order, and sends undeclared sizes back', async () => {
    const a = randomBytes(1000);
    const b = Buffer.alloc(3000, 7);
    const findings = await pool.check([
      { frame: zstdFrame(a), size: 1000 },
      { frame: zstdFrame(b), size: 3000 },
      { frame: zstdFrame(b), size: 2999 },
      { frame: zstdFrame(a, false), size: 1000 },
      { frame: randomBytes(40), size: 40 },
    ]);
    expect(findings.slice(0, 2)).toEqual([
      { length: 1000, sha256: sha256(a) },
      { length: 3000, sha256: sha256(b) },
    ]);
    expect(findings[2]).toEqual({ fallback: true });
    expect(findings[3]).toEqual({ fallback: true });
    expect(findings[4]).toHaveProperty('corrupt');
  });
});
