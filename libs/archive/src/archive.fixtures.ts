// Helpers shared by the archive specs (not part of the public API).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  canonicalJson,
  createEncryptStream,
  deriveStreamKey,
  FRAME_SIZE,
  generateDataKey,
} from '@tresor/crypto';
import type { WrappedKey } from '@tresor/crypto';
import type { Codec, Entry } from './entry.js';
import { encodeFooter } from './footer.js';
import { ARCHIVE_CIPHER } from './format.js';
import { archiveStreamInfo, encodeHeader } from './header.js';
import type { ArchiveHeader } from './header.js';
import { bufferSource } from './random-access-source.js';
import { ArchiveReader } from './reader.js';
import type { ArchiveReaderOptions } from './reader.js';
import { ArchiveWriter } from './writer.js';
import type { ArchiveSummary, FileMeta } from './writer.js';

export const BACKUP_ID = '20261126T045300Z-3f9a1c2b';
export const CREATED_AT = '2026-11-26T04:53:00.000Z';
/** A syntactically valid wrapped key for archives whose tests unlock with the raw DEK. */
export const DUMMY_KEY: WrappedKey = { type: 'rsa-oaep-sha256', kekId: 'rsa:test', ciphertext: 'AAAA' };

export interface FileSpec {
  readonly path: string;
  readonly content: Buffer;
  readonly codec?: Codec;
  readonly level?: number;
}

export interface WrittenArchive {
  readonly bytes: Buffer;
  readonly dek: Buffer;
  readonly entries: Entry[];
  readonly summary: ArchiveSummary;
  readonly tmpDir: string;
}

const tmpDirs: string[] = [];

/** A temp directory for spill files; removed by removeTmpDirs. */
export async function makeTmpDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tresor-archive-spec-'));
  tmpDirs.push(dir);
  return dir;
}

/** Removes every directory makeTmpDir created (call from afterAll). */
export async function removeTmpDirs(): Promise<void> {
  await Promise.all(tmpDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Names left in a directory (to check the writer cleaned up). */
export async function leftovers(dir: string): Promise<string[]> {
  return readdir(dir);
}

/** Metadata of a file entry. */
export function fileMeta(path: string, size: number): FileMeta {
  return {
    path,
    type: 'file',
    mode: 0o100600,
    uid: 1000,
    gid: 1000,
    mtimeNs: '1764132780000000000',
    size,
    ino: 42,
  };
}

/** Metadata of a directory entry. */
export function dirEntry(path: string): Entry {
  return {
    path,
    type: 'dir',
    mode: 0o40700,
    uid: 1000,
    gid: 1000,
    mtimeNs: '1764132780000000000',
    size: 4096,
    ino: 7,
  };
}

/** Content split into chunks, as a file stream would deliver it. */
export function contentStream(content: Buffer, chunkSize = 16 * 1024): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < content.length; i += chunkSize) parts.push(content.subarray(i, i + chunkSize));
  return Readable.from(parts);
}

/** A Writable that collects everything; `bytes()` after finish. */
export function collector(): { out: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      done();
    },
  });
  return { out, bytes: () => Buffer.concat(parts) };
}

/** Writes an archive of `files` (then `extra` entries) into memory. */
export async function writeArchive(
  files: readonly FileSpec[],
  options: {
    extra?: (written: Entry[]) => Entry[];
    frameSize?: number;
    dek?: Buffer;
    keys?: WrappedKey[];
  } = {},
): Promise<WrittenArchive> {
  const tmpDir = await makeTmpDir();
  const dek = options.dek ?? generateDataKey();
  const { out, bytes } = collector();
  const writer = await ArchiveWriter.create({
    backupId: BACKUP_ID,
    createdAt: CREATED_AT,
    dek,
    keys: options.keys ?? [DUMMY_KEY],
    out,
    tmpDir,
    ...(options.frameSize === undefined ? {} : { frameSize: options.frameSize }),
  });
  const entries: Entry[] = [];
  for (const file of files) {
    const entry = await writer.addFile(
      fileMeta(file.path, file.content.length),
      contentStream(file.content),
      file.codec ?? 'zstd',
      file.level ?? 3,
    );
    entries.push(entry);
  }
  for (const entry of options.extra?.(entries) ?? []) {
    await writer.addEntry(entry);
    entries.push(entry);
  }
  const summary = await writer.finish();
  await writer.release();
  return { bytes: bytes(), dek, entries, summary, tmpDir };
}

/** Opens archive bytes with the raw data key. */
export function openArchive(
  bytes: Buffer,
  dek: Buffer,
  options: ArchiveReaderOptions = {},
): Promise<ArchiveReader> {
  return ArchiveReader.open(bufferSource(bytes), async () => dek, options);
}

/** Reads a stream to the end. */
export function readAll(stream: Readable): Promise<Buffer> {
  return buffer(stream);
}

/** Collects an async iterable. */
export async function toArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A header with defaults, for archives built by hand. */
export function makeHeader(overrides: Partial<ArchiveHeader> = {}): ArchiveHeader {
  return {
    formatVersion: 1,
    backupId: BACKUP_ID,
    createdAt: CREATED_AT,
    cipher: ARCHIVE_CIPHER,
    frameSize: FRAME_SIZE,
    streamSalt: randomBytes(32).toString('base64'),
    keys: [DUMMY_KEY],
    ...overrides,
  };
}

/**
 * Seals an arbitrary payload as an archive, bypassing every writer check: how a hostile archive
 * (one made by someone holding the data key) would be built.
 */
export async function sealPayload(header: ArchiveHeader, payload: Buffer, dek: Buffer): Promise<Buffer> {
  const key = deriveStreamKey(dek, Buffer.from(header.streamSalt, 'base64'), archiveStreamInfo(header));
  const sealed = await buffer(Readable.from([payload]).pipe(createEncryptStream(key, header.frameSize)));
  return Buffer.concat([encodeHeader(header), sealed]);
}

/** A payload made of a raw entry table (lines as given) and a footer. */
export function tablePayload(lines: readonly unknown[], contents = Buffer.alloc(0)): Buffer {
  const table = Buffer.from(
    lines.map((l) => (typeof l === 'string' ? l : canonicalJson(l)) + '\n').join(''),
    'utf8',
  );
  return Buffer.concat([contents, table, encodeFooter({ offset: contents.length, length: table.length })]);
}
