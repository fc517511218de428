import type { Readable } from 'node:stream';

export type SourceEntryType = 'file' | 'dir' | 'symlink';

/** One item found in a source, described as the archive will record it. */
export interface SourceEntry {
  /** Relative POSIX path inside the source; never absolute, never containing `.` or `..` segments. */
  readonly path: string;
  readonly type: SourceEntryType;
  /** Permission bits (mode & 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Modification time in nanoseconds since the epoch, as a decimal string (exact). */
  readonly mtimeNs: string;
  /** Size in bytes (0 for directories and symlinks). */
  readonly size: number;
  /** Inode and device, used with size and mtime to detect unchanged files. */
  readonly ino: number;
  readonly dev: number;
  /** Target of a symlink, as stored in the link. */
  readonly linkTarget?: string;
}

/** Something in the source that could not be read; the scan goes on after it. */
export interface SourceProblem {
  readonly path: string;
  readonly problem: 'unreadable' | 'unsupported-type' | 'vanished' | 'bad-name';
  readonly message: string;
}

/**
 * The source port: where a backup reads from. Today a directory of key files; the port lets
 * Vault KV, Kubernetes Secrets and others plug in later.
 */
export interface Source {
  /** Stable description for the catalog, e.g. `{ kind: 'filesystem', location: '/etc/keys' }`. */
  readonly kind: string;
  readonly location: string;
  /**
   * Every entry, parents before children, in byte order of the UTF-8 paths (the order the catalog
   * lists entries in, so a scan can be walked in step with the previous backup's entries).
   */
  scan(): AsyncIterable<SourceEntry | SourceProblem>;
  /**
   * Optional: scan's items in batches, in the same order. Sources implement it when they find
   * items many at a time, sparing the consumer a promise per item.
   */
  scanBatches?(): AsyncIterable<readonly (SourceEntry | SourceProblem)[]>;
  /**
   * The content of a file entry; a failure to open or read it is an IoError on the stream. A
   * source that can tells, through recordReadTimes, the file's times after the read.
   */
  open(path: string): Readable;
  /**
   * Optional: the whole content of a small file entry (`sizeHint` is the size the scan saw), with
   * the same failures as `open`. Sources implement it when they can read many small files at less
   * cost than a stream each.
   */
  readWhole?(path: string, sizeHint: number): Promise<Buffer>;
  /**
   * Optional: readWhole, also running `step` on the bytes where they were read (a reader thread),
   * e.g. hashing and compressing them off the main thread. `prepared` is the step's value, absent
   * if the step failed (the caller then does the work itself).
   */
  readPrepared?(path: string, sizeHint: number, step: ReadStep): Promise<PreparedRead>;
}

/**
 * Work a source's reader does on a file's bytes right after reading them, sparing the main thread:
 * `code` is the source of a CommonJS expression evaluating to `(content: Buffer, arg, arena) => ({
 * value, transfer })` (compiled once per reader; `require` is in scope); `value` is handed back with
 * the ArrayBuffers in `transfer` moved rather than copied. `content` is valid only during the call
 * (the reader may reuse its memory); `arena.copy(bytes)` returns a copy of `bytes` that `value` may
 * hold, moved with it in memory shared by the batch's files (not listed in `transfer`). A step that
 * throws leaves the read intact.
 */
export interface ReadStep {
  readonly code: string;
  readonly arg: unknown;
  /**
   * The step's value stands for the bytes (e.g. they were compressed and hashed): when it
   * succeeds, the read hands back only their length, sparing the move of every file's bytes.
   */
  readonly replacesContent?: boolean;
}

/** A small file's whole content, and what the read step made of it. */
export interface PreparedRead {
  /** Absent only when the step succeeded and replacesContent. */
  readonly content?: Buffer;
  /** Bytes read. */
  readonly length: number;
  readonly prepared?: unknown;
  /** The file's mtime (ns, decimal) taken on the open handle after the read, where the source can. */
  readonly mtimeNs?: string;
  /** The file's ctime moved while it was being read (changed under the reader). */
  readonly ctimeMoved?: boolean;
}

/** A file's times on its open handle once a stream of it was read to the end. */
export interface ReadTimes {
  /** The mtime (ns, decimal) after the read. */
  readonly mtimeNs: string;
  /** The ctime moved between the open and the end of the read (changed under the reader). */
  readonly ctimeMoved: boolean;
}

// Keyed by the stream `open` returned, so the port's `open(): Readable` stays as it is.
const streamTimes = new WeakMap<Readable, ReadTimes>();

/** Records, for a stream a source's `open` returned, the file's times after its last byte was read. */
export function recordReadTimes(stream: Readable, times: ReadTimes): void {
  streamTimes.set(stream, times);
}

/**
 * The times a source recorded for a stream it opened, once the stream was read to its end;
 * undefined when the source cannot tell or the read did not end.
 */
export function readTimesOf(stream: Readable): ReadTimes | undefined {
  return streamTimes.get(stream);
}

/** True when a scan result is a problem rather than an entry. */
export function isSourceProblem(item: SourceEntry | SourceProblem): item is SourceProblem {
  return 'problem' in item;
}
