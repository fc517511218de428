import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { UsageError } from '@tresor/errors';
import { BACKUP_ID, collector, CREATED_AT, DUMMY_KEY, fileMeta, makeTmpDir, openArchive, writeArchive } from './archive.fixtures.js';
import { compressBuffer, decompressBuffer } from './codecs/index.js';
import { contentCheck, contentPreparation, preparedContent } from './prepared-content.js';
import type { FrameCheck } from './prepared-content.js';
import { generateDataKey } from '@tresor/crypto';
import { ArchiveWriter } from './writer.js';

/** Runs the step as a reader thread would (same evaluation), here on the main thread. */
function prepareHere(content: Buffer, level = 3): unknown {
  const step = contentPreparation('zstd', level)!;
  const fn = new Function('require', `return (${step.code});`)(createRequire(import.meta.url)) as (
    content: Buffer,
    arg: unknown,
    arena: { copy(bytes: Uint8Array): Uint8Array },
  ) => { value: unknown; transfer: ArrayBuffer[] };
  const copies: Uint8Array[] = [];
  const arena = { copy: (bytes: Uint8Array) => copies[copies.push(new Uint8Array(bytes)) - 1]! };
  const { value, transfer } = fn(content, step.arg, arena);
  // The frame is the one copy the value holds, in the reader's shared memory: nothing else moves.
  expect(transfer).toHaveLength(0);
  expect(copies).toHaveLength(1);
  expect((value as { compressed: Uint8Array }).compressed).toBe(copies[0]);
  return value;
}

const samples = [
  Buffer.alloc(0),
  Buffer.from('-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n'),
  randomBytes(300 * 1024),
  Buffer.from('a'.repeat(200_000)),
];

describe('contentPreparation', () => {
  it.each(samples.map((s) => [s.length, s] as const))('makes the bytes compressBuffer makes, and the SHA-256 (%i bytes)', (_n, content) => {
    for (const level of [1, 3, 19]) {
      const prepared = preparedContent(prepareHere(content, level), content.length)!;
      expect(prepared.size).toBe(content.length);
      expect(prepared.sha256).toBe(createHash('sha256').update(content).digest('hex'));
      expect(prepared.compressed.equals(compressBuffer('zstd', level, content)!)).toBe(true);
    }
  });

  it('is prepared off the main thread only for zstd, and refuses a bad level', () => {
    expect(contentPreparation('gzip', 6)).toBeUndefined();
    expect(contentPreparation('none', 0)).toBeUndefined();
    expect(() => contentPreparation('zstd', 99)).toThrow(UsageError);
  });

  it('takes no value that does not fit the content', () => {
    const content = Buffer.from('key');
    const value = prepareHere(content) as Record<string, unknown>;
    expect(preparedContent(value, 4)).toBeUndefined();
    expect(preparedContent({ ...value, sha256: 1 }, content.length)).toBeUndefined();
    expect(preparedContent({ ...value, compressed: 'x' }, content.length)).toBeUndefined();
    expect(preparedContent(undefined, content.length)).toBeUndefined();
  });
});

describe('ArchiveWriter.addPrepared', () => {
  it('writes the same entries and payload as addFile', async () => {
    const files = samples.map((content, i) => ({ path: `f${i}.pem`, content }));
    const reference = await writeArchive(files);

    const dek = generateDataKey();
    const { out, bytes } = collector();
    const writer = await ArchiveWriter.create({ backupId: BACKUP_ID, createdAt: CREATED_AT, dek, keys: [DUMMY_KEY], out, tmpDir: await makeTmpDir() });
    const entries = [];
    for (const { path, content } of files) {
      entries.push(await writer.addPrepared(fileMeta(path, content.length), preparedContent(prepareHere(content), content.length)!, 'zstd', 3));
    }
    const summary = await writer.finish();
    await writer.release();

    expect(entries).toEqual(reference.entries);
    expect(summary.entriesRoot).toBe(reference.summary.entriesRoot);
    expect(summary.payloadBytes).toBe(reference.summary.payloadBytes);
    const reader = await openArchive(bytes(), dek);
    for (const [i, entry] of entries.entries()) {
      expect((await reader.readSmallContent(entry.data!, entry.size))!.equals(samples[i]!)).toBe(true);
    }
  });
});

describe('contentCheck', () => {
  /** Runs the check as a verify thread would (same evaluation), here on the main thread. */
  function checkHere(frame: Buffer, size: number): FrameCheck {
    const { code, arg } = contentCheck();
    const fn = new Function('require', `return (${code});`)(createRequire(import.meta.url)) as (frame: Buffer, size: number, arg: unknown) => FrameCheck;
    return fn(frame, size, arg);
  }

  it.each(samples.map((s) => [s.length, s] as const))('gives the content, length and SHA-256 decompressBuffer would (%i bytes)', (_n, content) => {
    const frame = compressBuffer('zstd', 3, content)!;
    const inflated = decompressBuffer('zstd', frame, content.length)!;
    const found = checkHere(frame, content.length);
    expect(found).toEqual({ length: inflated.length, sha256: createHash('sha256').update(content).digest('hex'), content: inflated });
    expect('content' in found && found.content?.equals(content)).toBe(true);
  });

  it('sends back what decompressBuffer would not inflate in one call, and names what zstd cannot decode', () => {
    const content = Buffer.from('-----BEGIN CERTIFICATE-----\n'.repeat(40));
    const frame = compressBuffer('zstd', 3, content)!;
    expect(decompressBuffer('zstd', frame, content.length - 1)).toBeUndefined();
    expect(checkHere(frame, content.length - 1)).toEqual({ fallback: true });
    const damaged = Buffer.from(frame);
    damaged[damaged.length - 10]! ^= 0xff;
    const found = checkHere(damaged, content.length);
    expect(found).toHaveProperty('corrupt');
    expect(() => decompressBuffer('zstd', damaged, content.length)).toThrow(`corrupt zstd data: ${(found as { corrupt: string }).corrupt.split('\n')[0]}`);
  });
});
