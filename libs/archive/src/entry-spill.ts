import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { IntegrityError, IoError } from '@tresor/errors';
import type { Entry } from './entry.js';
import type { CheckedEntry } from './entry-schema.js';

/** The sealed entry table: line count, byte length and entriesRoot. */
export interface SpilledTable {
  readonly count: number;
  readonly length: number;
  readonly sha256: string;
}

const SPILL_FILE = 'entries.ndjson';
/**
 * Lines of one chunk that are the parent backup's entries as they were (see ArchiveWriter.addEntry):
 * `count` lines from line `first` (0-based in the chunk), whose paths are neighbours in the
 * parent's table too, so a catalog can copy the parent's rows between the first and last path.
 */
export interface InheritedRun {
  readonly first: number;
  readonly count: number;
}

/** What a table consumer sees of each chunk: the lines, and which of them are inherited. */
export type TableLinesListener = (lines: Uint8Array, inherited: readonly InheritedRun[]) => void | Promise<void>;

/** How an appended entry relates to the parent backup's table. */
export interface Inheritance {
  /**
   * True when the parent has no entry between the last inherited line's path and this one's
   * (only read when the line before this one was inherited too).
   */
  readonly adjacent: boolean;
}

/**
 * Lines are gathered into chunks of about this many characters: one write, hash update and
 * message to the catalog's thread per chunk, not per entry. 64 KiB made ~400 messages per 100k
 * lines, each waking that thread (no-change backups 1.72 -> 1.63 s at 256 KiB; 1 MiB was slower,
 * 1.80 s: the thread's work came in fewer, later steps).
 */
const CHUNK_CHARS = 256 * 1024;
/** The sealed table is read back in chunks of this many bytes. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * The entry table while an archive is written, kept in a private temp file rather than in memory
 * so that the number of entries does not bound the backup. Hashes the lines as they are written.
 */
export class EntrySpill {
  private readonly hash = createHash('sha256');
  private count = 0;
  private length = 0;
  private failure: Error | undefined;
  private pending = '';
  private pendingLines = 0;
  private pendingRuns: { first: number; count: number }[] = [];
  /** The last line appended extends an inherited run (of pendingRuns). */
  private inRun = false;
  private disposing: Promise<void> | undefined;
  private sealed: SpilledTable | undefined;

  private constructor(
    private readonly dir: string,
    private readonly out: WriteStream,
    private readonly onLines: TableLinesListener | undefined,
  ) {
    out.on('error', (err) => {
      this.failure ??= new IoError(`cannot write the entry table spill file in ${dir}: ${err.message}`, {
        cause: err,
      });
    });
  }

  /**
   * Creates the spill file in a fresh 0700 directory under `tmpDir`; `onLines` sees every chunk
   * of whole lines as it is written (and must not keep the buffer); a promise it returns holds
   * the next append back, as the file's own backpressure does.
   */
  static async create(tmpDir: string, onLines?: TableLinesListener): Promise<EntrySpill> {
    let dir: string;
    try {
      dir = await mkdtemp(join(tmpDir, 'tresor-entries-'));
    } catch (err) {
      throw new IoError(`cannot create a temporary directory in ${tmpDir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return new EntrySpill(dir, createWriteStream(join(dir, SPILL_FILE), { mode: 0o600, flags: 'wx' }), onLines);
  }

  /**
   * Appends one line, `inherited` when it is the parent's entry unchanged. Returns a promise only
   * when the caller should wait for the file (or the listener) to take more; it never rejects
   * (failures surface in seal).
   */
  append(entry: CheckedEntry, inherited?: Inheritance): Promise<void> | undefined {
    this.pending += `${entryJson(entry)}\n`;
    this.count++;
    if (!inherited) this.inRun = false;
    else if (this.inRun && inherited.adjacent) this.pendingRuns[this.pendingRuns.length - 1]!.count++;
    else {
      this.pendingRuns.push({ first: this.pendingLines, count: 1 });
      this.inRun = true;
    }
    this.pendingLines++;
    return this.pending.length < CHUNK_CHARS ? undefined : this.flush();
  }

  private flush(): Promise<void> | undefined {
    const chunk = Buffer.from(this.pending, 'utf8');
    const runs = this.pendingRuns;
    this.pending = '';
    // Runs end with their chunk: each is described by lines of one chunk.
    this.pendingLines = 0;
    this.pendingRuns = [];
    this.inRun = false;
    this.hash.update(chunk);
    this.length += chunk.length;
    const taken = this.onLines?.(chunk, runs) ?? undefined;
    if (this.failure || this.out.write(chunk)) return taken;
    const drained = new Promise<void>((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('close', done);
    });
    return taken ? Promise.all([taken, drained]).then(() => undefined) : drained;
  }

  /** Closes the file and returns the table's size and hash. */
  async seal(): Promise<SpilledTable> {
    if (!this.out.closed) {
      if (this.pending.length > 0) void this.flush();
      // 'close' follows both a clean finish and a failure, so this cannot hang.
      await new Promise<void>((resolve) => {
        this.out.once('close', () => resolve());
        this.out.end();
      });
    }
    if (this.failure) throw this.failure;
    if (!this.out.writableFinished)
      throw new IoError(`the entry table spill file in ${this.dir} was closed early`);
    this.sealed = { count: this.count, length: this.length, sha256: this.hash.digest('hex') };
    return this.sealed;
  }

  /** Reads the sealed table back. */
  open(): Readable {
    // In 1 MiB reads: each chunk passes the encryptor, the store and its hashing thread on its
    // way into the archive, and 64 KiB ones made 100k entries' 25 MB take 0.15 s instead of 0.1 s.
    return createReadStream(join(this.dir, SPILL_FILE), { highWaterMark: READ_CHUNK_BYTES });
  }

  /**
   * Parses the sealed table back into entries, one line at a time. Every line was validated when
   * it was appended; rather than validating each again, the file read back must hash to what was
   * written (checked before the last entry is handed out), so a changed file fails the reader.
   */
  async *entries(): AsyncGenerator<Entry> {
    if (!this.sealed) throw new IoError(`the entry table spill file in ${this.dir} is not sealed`);
    const { count, sha256 } = this.sealed;
    const hash = createHash('sha256');
    let lines = 0;
    let held: Entry | undefined;
    let partial = '';
    // Decodes across chunk ends: a chunk may end inside a character.
    const utf8 = new StringDecoder('utf8');
    for await (const chunk of this.open() as AsyncIterable<Buffer>) {
      hash.update(chunk);
      const text = partial + utf8.write(chunk);
      let start = 0;
      for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
        if (held !== undefined) yield held;
        held = JSON.parse(text.slice(start, newline)) as Entry;
        lines++;
        start = newline + 1;
      }
      partial = text.slice(start);
    }
    if (partial + utf8.end() !== '' || lines !== count || hash.digest('hex') !== sha256) {
      throw new IntegrityError(`the entry table spill file in ${this.dir} changed after it was written`);
    }
    if (held !== undefined) yield held;
  }

  /** Removes the file and its directory; safe to call more than once, never rejects. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      // Wait for the file to be closed, so no late open can recreate it after the removal.
      await new Promise<void>((resolve) => {
        if (this.out.closed) return resolve();
        this.out.once('close', () => resolve());
        this.out.destroy();
      });
      // A leftover temp directory is not worth failing a backup over.
      await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    })();
    return this.disposing;
  }
}

/**
 * canonicalJson of a checked entry (keys in sorted order, undefined ones left out), written out:
 * only its path and link target can need escaping, so only they go through JSON.stringify (issue 9:
 * a call per field cost three times the rest, ~1.2 µs per line of every table).
 */
export function entryJson(entry: CheckedEntry): string {
  const { data, gid, ino, linkTarget, mode, mtimeNs, path, sha256, size, type, uid } = entry;
  let out = '{';
  if (data !== undefined) {
    out += `"data":{"backupId":"${data.backupId}","codec":"${data.codec}","length":${data.length},"offset":${data.offset}},`;
  }
  out += `"gid":${gid},"ino":${ino},`;
  if (linkTarget !== undefined) out += `"linkTarget":${JSON.stringify(linkTarget)},`;
  out += `"mode":${mode},"mtimeNs":"${mtimeNs}","path":${JSON.stringify(path)},`;
  if (sha256 !== undefined) out += `"sha256":"${sha256}",`;
  return `${out}"size":${size},"type":"${type}","uid":${uid}}`;
}
