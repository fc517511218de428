import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { DATA_KEY_SIZE, deriveStreamKey, streamLayout } from '@tresor/crypto';
import type { WrappedKey } from '@tresor/crypto';
import { IntegrityError, UsageError } from '@tresor/errors';
import { decompressBuffer, createDecompressor } from './codecs/index.js';
import type { DataRef, Entry } from './entry.js';
import { dataRefSchema, hasDataRefShape, parseEntry } from './entry-schema.js';
import { decodeFooter } from './footer.js';
import type { TableLocation } from './footer.js';
import { FOOTER_SIZE, MAX_ENTRY_LINE_BYTES } from './format.js';
import { archiveStreamInfo, readHeader } from './header.js';
import type { ArchiveHeader } from './header.js';
import { PayloadFrames } from './payload-frames.js';
import type { RandomAccessSource } from './random-access-source.js';
import { firstIssue } from './zod-issue.js';

/** Recovers the data key from the wrapped copies in the header (WrongKeyError if it cannot). */
export type UnlockDataKey = (keys: WrappedKey[]) => Promise<Buffer>;

/** Options of ArchiveReader.open. */
export interface ArchiveReaderOptions {
  /** Fails open unless the archive is this backup's (catches a swapped object). */
  readonly expectedBackupId?: string;
  /** entriesRoot from the signed manifest; entries() checks the table against it. */
  readonly expectedEntriesRoot?: string;
}

/** Options of ArchiveReader.entries. */
export interface EntriesOptions {
  /** Overrides the root given to open. */
  readonly expectedEntriesRoot?: string;
  /**
   * Records what a later read needs to skip validation: the SHA-256 of each chunk read, and, once the
   * whole table has been read, whether it matched the expected root (and so passed every check).
   */
  readonly recordInto?: VerifiedTable;
  /**
   * A record of an earlier full read that matched its root: each chunk must hash as it did then
   * (IntegrityError before any of its entries is yielded otherwise), and its lines are parsed
   * without validating them again, since the same bytes already passed every check.
   */
  readonly verified?: VerifiedTable;
}

/** The chunk digests of an entry table read in full (see EntriesOptions.recordInto). */
export class VerifiedTable {
  readonly chunkDigests: Buffer[] = [];
  /** Set when the read that filled chunkDigests reached the end and matched an expected root. */
  matchedRoot = false;
}

/** Consecutive lines of an entry table (see ArchiveReader.entryLines). */
export interface EntryLines {
  /** Line number (from 1) of lines[0]. */
  readonly first: number;
  /** Each line's bytes, without its newline. */
  readonly lines: readonly Buffer[];
}

/** Result of a deep payload check. */
export interface PayloadReport {
  readonly frames: number;
  readonly payloadBytes: number;
}

/**
 * Reads one archive object through positional reads: the header at open, the footer and entry
 * table on demand, and for each entry only the frames that hold it.
 */
export class ArchiveReader {
  private constructor(
    readonly header: ArchiveHeader,
    private readonly frames: PayloadFrames,
    private readonly table: TableLocation,
    private readonly expectedEntriesRoot: string | undefined,
  ) {}

  /** Parses and checks the header, unlocks the data key, and reads the footer. */
  static async open(
    source: RandomAccessSource,
    unlock: UnlockDataKey,
    options: ArchiveReaderOptions = {},
  ): Promise<ArchiveReader> {
    const { header, payloadStart } = await readHeader(source);
    const label = `archive ${header.backupId}`;
    if (options.expectedBackupId !== undefined && options.expectedBackupId !== header.backupId) {
      throw new IntegrityError(`${label} was found where archive ${options.expectedBackupId} was expected`);
    }
    const dek = await unlock(header.keys.map((k) => structuredClone(k)));
    if (!Buffer.isBuffer(dek) || dek.length !== DATA_KEY_SIZE) {
      throw new UsageError(
        `${label}: unlock returned ${Buffer.isBuffer(dek) ? dek.length : 'no'} bytes, not a ${DATA_KEY_SIZE}-byte data key`,
      );
    }
    const key = deriveStreamKey(dek, Buffer.from(header.streamSalt, 'base64'), archiveStreamInfo(header));
    let layout;
    try {
      layout = streamLayout(source.size - payloadStart, header.frameSize);
    } catch (err) {
      throw new IntegrityError(`${label} is truncated or extended: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const frames = new PayloadFrames(source, key, header.frameSize, payloadStart, layout, label);
    const table = await readFooter(frames, label);
    return new ArchiveReader(header, frames, table, options.expectedEntriesRoot);
  }

  /** The backup this archive belongs to. */
  get backupId(): string {
    return this.header.backupId;
  }

  /** Length of the decrypted payload (contents, table and footer). */
  get payloadLength(): number {
    return this.frames.length;
  }

  /**
   * Every entry, in table order, each validated (shape, safe path, type rules). When an expected
   * entriesRoot is known the table hash is checked after the last entry, so a caller that must not
   * act on an unverified table should finish the iteration before acting.
   */
  async *entries(options: EntriesOptions = {}): AsyncGenerator<Entry> {
    const parse = options.verified ? parseVerifiedLine : parseLine;
    const label = `archive ${this.backupId}`;
    for await (const { first, lines } of this.entryLines(options)) {
      for (let i = 0; i < lines.length; i++) yield parse(lines[i]!, first + i, label);
    }
  }

  /**
   * The entry table's lines as stored, unparsed, a decrypted chunk at a time, checked as entries()
   * checks the table (root, chunk record). For a caller that can pass over lines it already knows
   * (deep verify of backups sharing entries); every other line goes through parseEntryLine.
   */
  async *entryLines(options: EntriesOptions = {}): AsyncGenerator<EntryLines> {
    const expected = options.expectedEntriesRoot ?? this.expectedEntriesRoot;
    const { recordInto, verified } = options;
    if (verified && !verified.matchedRoot) throw new UsageError('entries: the table record given as verified never matched a root');
    const hash = createHash('sha256');
    const label = `archive ${this.backupId}`;
    let partial: Buffer[] = [];
    let partialLength = 0;
    let line = 0;
    let chunkIndex = 0;
    if (recordInto) {
      recordInto.chunkDigests.length = 0;
      recordInto.matchedRoot = false;
    }
    for await (const chunk of this.frames.readRange(
      this.table.offset,
      this.table.offset + this.table.length,
    )) {
      if (verified) checkChunk(verified, chunkIndex, chunk, label);
      else hash.update(chunk);
      if (recordInto) recordInto.chunkDigests.push(createHash('sha256').update(chunk).digest());
      chunkIndex++;
      const lines: Buffer[] = [];
      const first = line + 1;
      let start = 0;
      for (let newline = chunk.indexOf(0x0a); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
        const tail = chunk.subarray(start, newline);
        line++;
        // Most lines lie within one chunk: only a line split across chunks is copied together.
        lines.push(partial.length === 0 ? tail : Buffer.concat([...partial, tail]));
        partial = [];
        partialLength = 0;
        start = newline + 1;
      }
      // The chunk's lines are judged before its unfinished last line, as if read one by one.
      if (lines.length > 0) yield { first, lines };
      if (start < chunk.length) partial.push(chunk.subarray(start));
      partialLength += chunk.length - start;
      if (partialLength > MAX_ENTRY_LINE_BYTES) {
        throw new IntegrityError(
          `${label}: entry table line ${line + 1} is longer than ${MAX_ENTRY_LINE_BYTES} bytes`,
        );
      }
    }
    if (partialLength > 0) throw new IntegrityError(`${label}: entry table does not end with a newline`);
    if (verified) {
      // Every chunk hashed as in the verified read; the same count of them means the same table.
      if (chunkIndex !== verified.chunkDigests.length) throw new IntegrityError(`${label}: entry table changed since it was verified`);
      return;
    }
    const root = hash.digest('hex');
    if (expected !== undefined && root !== expected) {
      throw new IntegrityError(
        `${label}: entry table hash ${root} does not match the manifest's entriesRoot ${expected}`,
      );
    }
    if (recordInto && expected !== undefined) recordInto.matchedRoot = true;
  }

  /** One line of entryLines as an entry, validated as entries() validates it (IntegrityError naming the line). */
  parseEntryLine(bytes: Buffer, line: number): Entry {
    return parseLine(bytes, line, `archive ${this.backupId}`);
  }

  /**
   * The decompressed content behind `ref`, decrypting only the frames that hold it. Given the
   * entry's size, small content is decompressed in one call (bounded by that size) instead of
   * through a stream, whose set-up costs more than the work for a key file.
   */
  openContent(ref: DataRef, expectedSize?: number): Readable {
    this.checkRef(ref);
    if (expectedSize !== undefined && isSmall(ref, expectedSize)) {
      return Readable.from(this.smallContentChunks(ref, expectedSize));
    }
    const compressed = Readable.from(this.frames.readRange(ref.offset, ref.offset + ref.length));
    // Errors reach the consumer through the returned stream; the callback has nothing to add.
    return pipeline(compressed, createDecompressor(ref.codec), () => undefined);
  }

  /**
   * The decompressed content behind `ref` in one buffer, without any stream, when it is small
   * (stored and expected size within the one-shot limit) and its codec decompresses in one call
   * bounded by `expectedSize`; undefined otherwise (use openContent). The result may still differ
   * from `expectedSize` in length: the caller checks it, as it checks the hash.
   */
  async readSmallContent(ref: DataRef, expectedSize: number): Promise<Buffer | undefined> {
    this.checkRef(ref);
    if (!isSmall(ref, expectedSize)) return undefined;
    return decompressBuffer(ref.codec, await this.compressedBytes(ref), expectedSize);
  }

  /**
   * The stored (compressed) bytes behind `ref` when readSmallContent would decompress them in one
   * call, for a caller that decompresses elsewhere (a verify thread); undefined otherwise.
   */
  async readSmallCompressed(ref: DataRef, expectedSize: number): Promise<Buffer | undefined> {
    this.checkRef(ref);
    if (!isSmall(ref, expectedSize)) return undefined;
    return this.frames.recentRange(ref.offset, ref.offset + ref.length) ?? this.compressedBytes(ref);
  }

  private checkRef(ref: DataRef): void {
    if (!hasDataRefShape(ref)) {
      const parsed = dataRefSchema.safeParse(ref);
      if (!parsed.success) throw new UsageError(`data reference is malformed: ${firstIssue(parsed.error)}`);
    }
    if (ref.backupId !== this.backupId) {
      throw new UsageError(`data reference points into archive ${ref.backupId}, not ${this.backupId}`);
    }
    if (ref.offset + ref.length > this.table.offset) {
      throw new IntegrityError(
        `archive ${this.backupId}: content at ${ref.offset} (+${ref.length} bytes) lies beyond the stored contents (${this.table.offset} bytes)`,
      );
    }
  }

  private async compressedBytes(ref: DataRef): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of this.frames.readRange(ref.offset, ref.offset + ref.length)) parts.push(part);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private async *smallContentChunks(ref: DataRef, expectedSize: number): AsyncGenerator<Buffer> {
    const compressed = await this.compressedBytes(ref);
    const content = decompressBuffer(ref.codec, compressed, expectedSize);
    if (content) {
      yield content;
      return;
    }
    yield* pipeline(Readable.from([compressed]), createDecompressor(ref.codec), () => undefined);
  }

  /**
   * Authenticates every frame (deep verify): decrypts, in order, those this reader has not decrypted
   * yet, so that after reading the contents it costs only the frames no entry refers to.
   * IntegrityError names the first bad frame.
   */
  async verifyPayload(): Promise<PayloadReport> {
    await this.frames.openRemaining();
    return { frames: this.frames.frameCount, payloadBytes: this.frames.length };
  }
}

async function readFooter(frames: PayloadFrames, label: string): Promise<TableLocation> {
  if (frames.length < FOOTER_SIZE) {
    throw new IntegrityError(`${label}: payload of ${frames.length} bytes is too short to hold its footer`);
  }
  const parts: Buffer[] = [];
  for await (const chunk of frames.readRange(frames.length - FOOTER_SIZE, frames.length)) parts.push(chunk);
  try {
    return decodeFooter(Buffer.concat(parts), frames.length);
  } catch (err) {
    throw new IntegrityError(`${label}: ${(err as Error).message}`, { cause: err });
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A chunk of a table read again must hash as it did in the verified read. */
function checkChunk(verified: VerifiedTable, index: number, chunk: Buffer, label: string): void {
  const recorded = verified.chunkDigests[index];
  if (!recorded || !recorded.equals(createHash('sha256').update(chunk).digest())) {
    throw new IntegrityError(`${label}: entry table changed since it was verified (chunk ${index})`);
  }
}

/** A line of a chunk that already passed parseLine byte for byte: only decoded. */
function parseVerifiedLine(bytes: Buffer): Entry {
  return JSON.parse(bytes.toString('utf8')) as Entry;
}

function parseLine(bytes: Buffer, line: number, label: string): Entry {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new IntegrityError(`${label}: entry table line ${line} is not valid JSON`);
  }
  try {
    return parseEntry(value);
  } catch (err) {
    throw new IntegrityError(`${label}: entry table line ${line}: ${(err as Error).message}`, { cause: err });
  }
}

/** Content up to this size (stored and decompressed) is decompressed in one call. */
const ONE_SHOT_LIMIT = 4 * 1024 * 1024;

function isSmall(ref: DataRef, expectedSize: number): boolean {
  return ref.length <= ONE_SHOT_LIMIT && expectedSize <= ONE_SHOT_LIMIT;
}
