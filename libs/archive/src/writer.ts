import { createHash, randomBytes } from 'node:crypto';
import { Readable as ReadableStream, Writable } from 'node:stream';
import { Transform } from 'node:stream';
import type { Readable, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptStream, DATA_KEY_SIZE, deriveStreamKey, FRAME_SIZE } from '@tresor/crypto';
import type { WrappedKey } from '@tresor/crypto';
import { IntegrityError, IoError, TresorError, UsageError } from '@tresor/errors';
import { compressBuffer, createCompressor, validateLevel } from './codecs/index.js';
import { DigestTap } from './digest-tap.js';
import type { Codec, DataRef, Entry } from './entry.js';
import { parseEntry } from './entry-schema.js';
import type { CheckedEntry } from './entry-schema.js';
import type { PreparedContent } from './prepared-content.js';
import { EntrySpill } from './entry-spill.js';
import type { Inheritance, TableLinesListener } from './entry-spill.js';
import { encodeFooter } from './footer.js';
import { ARCHIVE_CIPHER, ARCHIVE_FORMAT_VERSION, STREAM_SALT_SIZE } from './format.js';
import { archiveHeaderSchema, archiveStreamInfo, encodeHeader } from './header.js';
import type { ArchiveHeader } from './header.js';
import { quotePath } from './paths.js';
import { firstIssue } from './zod-issue.js';

/** What ArchiveWriter.create needs. */
export interface ArchiveWriterOptions {
  readonly backupId: string;
  /** ISO 8601 UTC timestamp. */
  readonly createdAt: string;
  /** This archive's data key; not retained after create. */
  readonly dek: Buffer;
  /** The data key wrapped for every KEK that may open the archive (at least one). */
  readonly keys: readonly WrappedKey[];
  /** Where the archive object goes (a storage upload stream). */
  readonly out: Writable;
  /** Directory for the temporary entry-table file. */
  readonly tmpDir: string;
  /** Plaintext bytes per STREAM frame (default 64 KiB). */
  readonly frameSize?: number;
  /**
   * Sees the entry table as it is written, in chunks of whole lines (exactly the bytes that
   * entriesRoot hashes), with the runs of lines inherited from the parent (addEntry): lets a
   * catalog index it meanwhile. It must not keep the buffer; a promise it returns holds back the
   * entry calls that wait for room in the table.
   */
  readonly onTableLines?: TableLinesListener;
  /**
   * Called once the table is complete (onTableLines has seen every line), with its size and hash,
   * before finish writes it into the archive: a catalog can put the entries in place meanwhile.
   */
  readonly onTableEnd?: (table: Pick<ArchiveSummary, 'entryCount' | 'entriesRoot'>) => void;
}

/** What finish reports; entriesRoot and entryCount go into the signed manifest. */
export interface ArchiveSummary {
  readonly entriesRoot: string;
  readonly entryCount: number;
  readonly payloadBytes: number;
  readonly objectBytes: number;
}

/** An entry about to be stored: everything but what addFile computes. */
export type FileMeta = Omit<Entry, 'sha256' | 'data'>;

/**
 * Writes one archive object as a stream: header, then file contents compressed per entry and
 * sealed as one STREAM, then the entry table and footer. Memory stays constant: contents stream
 * through, and the table waits in a temp file until finish.
 */
export class ArchiveWriter {
  private payloadBytes = 0;
  /** Payload bytes not yet handed to the encryptor (see writePayload). */
  private readonly gathered = new ChunkGather();
  private busy: Promise<unknown> = Promise.resolve();
  private closed = false;
  private failure: Error | undefined;

  private constructor(
    readonly backupId: string,
    private readonly encryptor: Transform,
    private readonly output: Promise<void>,
    private readonly objectCounter: ByteCounter,
    private readonly spill: EntrySpill,
    private readonly onTableEnd: ArchiveWriterOptions['onTableEnd'],
  ) {
    output.catch((err: unknown) => {
      this.failure ??= outputFailure(backupId, err);
      void this.spill.dispose();
    });
  }

  /** Validates the options, writes the header and opens the payload stream. */
  static async create(options: ArchiveWriterOptions): Promise<ArchiveWriter> {
    const header = buildHeader(options);
    if (!Buffer.isBuffer(options.dek) || options.dek.length !== DATA_KEY_SIZE) {
      throw new UsageError(`data key must be ${DATA_KEY_SIZE} bytes`);
    }
    const key = deriveStreamKey(
      options.dek,
      Buffer.from(header.streamSalt, 'base64'),
      archiveStreamInfo(header),
    );
    const spill = await EntrySpill.create(options.tmpDir, options.onTableLines);
    // Counted, not hashed: the store hashes what it writes, and the manifest records the store's hash.
    const objectCounter = new ByteCounter();
    const encryptor = createEncryptStream(key, header.frameSize);
    objectCounter.write(encodeHeader(header));
    const output = pipeline(encryptor, objectCounter, options.out);
    return new ArchiveWriter(header.backupId, encryptor, output, objectCounter, spill, options.onTableEnd);
  }

  /**
   * Stores a file's content (hashed, compressed, encrypted) and records its entry. The entry
   * returned has the size actually read, which differs from `meta.size` if the file changed
   * meanwhile; the caller decides what that means. Calls are serialised. If `content` fails, the
   * archive stays usable (the partial bytes are just unreferenced) and the error is an IoError.
   */
  async addFile(meta: FileMeta, content: Readable, codec: Codec, level: number): Promise<Entry> {
    this.checkFileCall(meta, codec, level, 'addFile');
    // The entry is checked before any byte is written, with what addFile computes left open.
    checkEntry(fileEntry(meta, meta.size, '0'.repeat(64), { backupId: this.backupId, offset: 0, length: 0, codec }));
    return this.exclusive(async () => {
      const offset = this.payloadBytes;
      let size: number;
      let sha256: string;
      try {
        const head = await readHead(content, SMALL_CONTENT_LIMIT);
        const oneShot = head.complete ? compressBuffer(codec, level, head.content) : undefined;
        if (head.complete && oneShot) {
          size = head.content.length;
          sha256 = createHash('sha256').update(head.content).digest('hex');
          await this.writePayload(oneShot);
        } else {
          const plain = new DigestTap();
          const rest = head.complete ? ReadableStream.from([head.content]) : head.rest;
          await pipeline(rest, plain, createCompressor(codec, level), this.payloadSink());
          size = plain.bytes;
          sha256 = plain.digestHex();
        }
      } catch (err) {
        throw this.failure ?? contentFailure(meta.path, err);
      }
      return this.recordFile(meta, size, sha256, offset, codec);
    });
  }

  /**
   * addFile for content hashed and compressed elsewhere (a reader thread): the same payload bytes
   * and entry as addFile would give, provided `content.compressed` is what compressBuffer(codec,
   * level) makes of the plaintext and size and sha256 are the plaintext's (contentPreparation).
   */
  async addPrepared(meta: FileMeta, content: PreparedContent, codec: Codec, level: number): Promise<Entry> {
    this.checkFileCall(meta, codec, level, 'addPrepared');
    // The whole entry is known before its bytes are written (their length is the frame's): it is
    // built and checked once, its offset (ours, always valid) filled in when its turn comes.
    const length = content.compressed.length;
    const { sha256, size } = content;
    const entry = checkEntry(fileEntry(meta, size, sha256, { backupId: this.backupId, offset: 0, length, codec }));
    // The checked entry's own: still an integer count, so the entry stays checked.
    const data = entry.data as { -readonly [K in keyof DataRef]: DataRef[K] };
    return this.exclusive(async () => {
      data.offset = this.payloadBytes;
      await this.writePayload(content.compressed);
      await this.spill.append(entry);
      return entry;
    });
  }

  /** What every call that stores a file needs: an open archive, a valid level, a file entry. */
  private checkFileCall(meta: FileMeta, codec: Codec, level: number, method: string): void {
    this.checkOpen();
    validateLevel(codec, level);
    if (meta.type !== 'file')
      throw new UsageError(`${method} got ${quotePath(meta.path)} of type ${meta.type}; use addEntry`);
  }

  private async recordFile(meta: FileMeta, size: number, sha256: string, offset: number, codec: Codec): Promise<Entry> {
    // Checked again with what the content gave (a streamed file's: one call per large file).
    const entry = checkEntry(fileEntry(meta, size, sha256, { backupId: this.backupId, offset, length: this.payloadBytes - offset, codec }));
    await this.spill.append(entry);
    return entry;
  }

  /**
   * Records an entry without content: a dir, a symlink, or a file whose content is already
   * stored (earlier in this archive, or in an ancestor's). `inherited` says the entry is, field
   * for field, the parent backup's entry at its path (onTableLines passes that on). Validation
   * errors are thrown at once; a promise comes back only when the caller should wait for room in
   * the table file, and it never rejects (write failures are reported by finish).
   */
  addEntry(entry: Entry, inherited?: Inheritance): Promise<void> | undefined {
    this.checkOpen();
    const picked = checkEntry(pickEntry(entry));
    const data = picked.data;
    if (data && data.backupId === this.backupId && data.offset + data.length > this.payloadBytes) {
      throw new UsageError(
        `entry ${quotePath(picked.path)} refers to bytes this archive has not written yet`,
      );
    }
    return this.spill.append(picked, inherited);
  }

  /**
   * Writes the entry table and footer, ends the stream, and resolves once `out` has finished.
   * Call `release` afterwards (on failure, temp files are removed here).
   */
  async finish(): Promise<ArchiveSummary> {
    this.checkOpen();
    this.closed = true;
    try {
      await this.busy;
      if (this.failure) throw this.failure;
      const table = await this.spill.seal();
      this.onTableEnd?.({ entryCount: table.count, entriesRoot: table.sha256 });
      const tableOffset = this.payloadBytes;
      await pipeline(this.spill.open(), this.payloadSink());
      if (this.payloadBytes - tableOffset !== table.length) {
        throw new IoError(`archive ${this.backupId}: the entry table file changed while it was copied`);
      }
      await this.writePayload(encodeFooter({ offset: tableOffset, length: table.length }));
      this.flushGathered();
      this.encryptor.end();
      await this.output.catch((err: unknown) => {
        throw this.failure ?? outputFailure(this.backupId, err);
      });
      return {
        entriesRoot: table.sha256,
        entryCount: table.count,
        payloadBytes: this.payloadBytes,
        objectBytes: this.objectCounter.bytes,
      };
    } catch (err) {
      this.encryptor.destroy(err as Error);
      await this.spill.dispose();
      throw err;
    }
  }

  /**
   * The entry table just written, read back from its temp file: lets the caller index a backup
   * of any size without holding its entries in memory. Available after `finish`, until `release`.
   */
  writtenEntries(): AsyncIterable<Entry> {
    return this.spill.entries();
  }

  /** Removes the temp files once the caller no longer needs `writtenEntries`. */
  async release(): Promise<void> {
    await this.spill.dispose();
  }

  /** Abandons the archive: destroys the output (so storage can discard it) and removes temp files. */
  async abort(reason?: Error): Promise<void> {
    this.closed = true;
    this.encryptor.destroy(reason ?? new IoError(`archive ${this.backupId}: writing was aborted`));
    await this.output.catch(() => undefined);
    await this.spill.dispose();
  }

  private checkOpen(): void {
    if (this.closed) throw new UsageError(`archive ${this.backupId} is already finished or aborted`);
    if (this.failure) throw this.failure;
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.busy.then(task);
    this.busy = run.catch(() => undefined);
    return run;
  }

  // A sink into the encryptor that never ends it: every entry and the table pass through one.
  private payloadSink(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.writePayload(chunk).then(() => done(), done);
      },
    });
  }

  private async writePayload(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    this.payloadBytes += chunk.length;
    // Small chunks (a key file's frame each) go to the encryptor together: a stream write per
    // file cost the main thread more than encrypting its bytes (issue 9).
    if (this.gathered.length + chunk.length <= GATHER_BYTES) {
      this.gathered.push(chunk);
      if (this.gathered.length < GATHER_BYTES) return;
      chunk = this.gathered.take();
    } else if (this.gathered.length > 0) {
      const gathered = this.gathered.take();
      if (!this.encryptor.write(gathered)) await this.drained();
    }
    if (!this.encryptor.write(chunk)) await this.drained();
  }

  /** Hands what writePayload gathered to the encryptor (before it is ended). */
  private flushGathered(): void {
    if (this.gathered.length > 0) this.encryptor.write(this.gathered.take());
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onClose = () => {
        cleanup();
        this.output.then(
          () =>
            reject(new IoError(`archive ${this.backupId}: output closed before the archive was finished`)),
          (err: unknown) => reject(this.failure ?? outputFailure(this.backupId, err)),
        );
      };
      const cleanup = () => {
        this.encryptor.off('drain', onDrain);
        this.encryptor.off('close', onClose);
      };
      this.encryptor.on('drain', onDrain);
      this.encryptor.on('close', onClose);
    });
  }
}

function buildHeader(options: ArchiveWriterOptions): ArchiveHeader {
  const parsed = archiveHeaderSchema.safeParse({
    formatVersion: ARCHIVE_FORMAT_VERSION,
    backupId: options.backupId,
    createdAt: options.createdAt,
    cipher: ARCHIVE_CIPHER,
    frameSize: options.frameSize ?? FRAME_SIZE,
    streamSalt: randomBytes(STREAM_SALT_SIZE).toString('base64'),
    keys: options.keys,
  });
  if (!parsed.success)
    throw new UsageError(`cannot create archive ${String(options.backupId)}: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

// Only the fields of the format, whatever else the caller's object carries.
/** A file's entry from its metadata and content: the fields an entry has, nothing else of `meta`. */
function fileEntry(meta: FileMeta, size: number, sha256: string, data: DataRef): Entry {
  const { path, type, mode, uid, gid, mtimeNs, ino, linkTarget } = meta;
  return { path, type, mode, uid, gid, mtimeNs, size, ino, sha256, data, linkTarget };
}

function pickEntry(e: Entry): Entry {
  const { path, type, mode, uid, gid, mtimeNs, size, ino, sha256, data, linkTarget } = e;
  const ref = data && {
    backupId: data.backupId,
    offset: data.offset,
    length: data.length,
    codec: data.codec,
  };
  return { path, type, mode, uid, gid, mtimeNs, size, ino, sha256, data: ref, linkTarget };
}

function checkEntry(entry: Entry): CheckedEntry {
  try {
    return parseEntry(entry);
  } catch (err) {
    if (err instanceof IntegrityError) throw new UsageError(err.message);
    throw err;
  }
}

function contentFailure(path: string, err: unknown): Error {
  if (err instanceof TresorError) return err;
  return new IoError(`reading ${quotePath(path)} failed: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
  });
}

function outputFailure(backupId: string, err: unknown): Error {
  if (err instanceof TresorError) return err;
  return new IoError(`writing archive ${backupId} failed: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
  });
}

/** A pass-through that counts the bytes of the archive object. */
class ByteCounter extends Transform {
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/** Content up to this size is compressed in one call instead of through a stream. */
const SMALL_CONTENT_LIMIT = 1024 * 1024;
/** Payload bytes gathered into one write to the encryptor, at most. */
const GATHER_BYTES = 256 * 1024;

/** Chunks held to be written as one. */
class ChunkGather {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The chunks as one buffer; empties the gather. */
  take(): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    this.length = 0;
    return all;
  }
}

type Head = { complete: true; content: Buffer } | { complete: false; rest: Readable };

/**
 * Reads a stream up to `limit` bytes. If it ends by then, its whole content is returned;
 * otherwise a stream that replays what was read, then the rest.
 */
async function readHead(content: Readable, limit: number): Promise<Head> {
  const iterator = content[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  while (size <= limit) {
    const next = await iterator.next();
    if (next.done) return { complete: true, content: Buffer.concat(chunks, size) };
    chunks.push(next.value);
    size += next.value.length;
  }
  async function* replay(): AsyncGenerator<Buffer> {
    yield* chunks;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { complete: false, rest: ReadableStream.from(replay(), { objectMode: false }) };
}
