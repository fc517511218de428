import { contentCheck } from '@tresor/archive';
import { BatchPool } from '@tresor/source';

/**
 * The writer threads' code (CommonJS, evaluated). Each job is a key file to write to its temporary
 * name and rename into place, or the metadata of one restored name, done with synchronous calls:
 * off the main thread they cost far less than a promise and a libuv round trip per system call.
 * A key file may come as its stored zstd frame: the thread decompresses it and checks size and
 * SHA-256 (the archive's contentCheck) before anything is written.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
let check;
function inflate(job, shared) {
  check ??= new Function('require', 'return (' + shared.code + ');')(require);
  const found = check(Buffer.from(shared.frames, job.frameAt, job.frameLength), job.size, shared.arg);
  if (found.fallback) return { fallback: true };
  if (found.corrupt !== undefined) return { corrupt: found.corrupt };
  if (found.length !== job.size || found.sha256 !== job.sha256) return { mismatch: true };
  const write = { temp: job.temp, dest: job.dest, bytes: found.content, meta: job.meta };
  return job.temp === undefined ? createFile(write) : writeFile(write);
}
const failure = (err) => ({ code: err.code, errno: err.errno, syscall: err.syscall, path: err.path, dest: err.dest, message: err.message });
const remove = (path) => { try { fs.rmSync(path, { force: true }); } catch {} };
function writeFile({ temp, dest, bytes, meta }) {
  try {
    fs.writeFileSync(temp, bytes, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    // EEXIST: the temporary name is someone else's file; it stays.
    if (err.code !== 'EEXIST') remove(temp);
    return { error: failure(err) };
  }
  try {
    fs.renameSync(temp, dest);
  } catch (err) {
    remove(temp);
    return { error: failure(err), renaming: true };
  }
  return meta ? applyMetadata({ dest, ...meta }) : {};
}
function createFile({ dest, bytes, meta }) {
  let fd;
  try {
    fd = fs.openSync(dest, 'wx', 0o600);
  } catch (err) {
    return { error: failure(err) };
  }
  try {
    for (let offset = 0; offset < bytes.length; ) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
    if (meta.chown) fs.fchownSync(fd, meta.uid, meta.gid);
    fs.fchmodSync(fd, meta.mode);
    fs.futimesSync(fd, meta.mtime, meta.mtime);
    fs.closeSync(fd);
    return {};
  } catch (err) {
    try { fs.closeSync(fd); } catch {}
    remove(dest);
    return { error: failure(err) };
  }
}
function applyMetadata({ dest, symlink, chown, uid, gid, mode, mtime }) {
  try {
    if (chown) fs.lchownSync(dest, uid, gid);
    if (symlink) {
      fs.lutimesSync(dest, mtime, mtime);
    } else {
      fs.chmodSync(dest, mode);
      fs.utimesSync(dest, mtime, mtime);
    }
    return {};
  } catch (err) {
    return { error: failure(err) };
  }
}
// Created (0700) or found; what is found there instead of a directory is named, never followed.
function makeDir({ dir }) {
  for (;;) {
    try {
      fs.mkdirSync(dir, 0o700);
      return {};
    } catch (err) {
      if (err.code !== 'EEXIST') return { error: failure(err) };
    }
    try {
      const stat = fs.lstatSync(dir);
      return stat.isSymbolicLink() ? { found: 'symlink' } : stat.isDirectory() ? {} : { found: 'other' };
    } catch (err) {
      // Removed between the two calls: try again.
      if (err.code !== 'ENOENT') return { error: failure(err) };
    }
  }
}
const run = (job, shared) =>
  job.op === 'file' ? writeFile(job) : job.op === 'create' ? createFile(job) : job.op === 'inflate' ? inflate(job, shared)
    : job.op === 'dir' ? makeDir(job) : applyMetadata(job);
parentPort.on('message', ({ id, jobs, shared }) => {
  parentPort.postMessage({ id, results: jobs.map((job) => run(job, shared)) });
});
`;

type Failure = { code?: string; errno?: number; syscall?: string; path?: string; dest?: string; message: string };
/** What an inflate job found before writing anything, instead of writing. */
type Refusal = { fallback: true } | { corrupt: string } | { mismatch: true };
type Result = { error?: Failure; renaming?: boolean; found?: 'symlink' | 'other' } | Refusal | { threadError: Error };

/** What a restored name gets after its content: owner (when `chown`), mode (not for a symlink), mtime in seconds. */
export type Metadata = { symlink: boolean; chown: boolean; uid: number; gid: number; mode: number; mtime: number };

/** What one write or metadata job gave: nothing, or the error the fs call threw. */
export type WriteOutcome = { readonly error?: NodeJS.ErrnoException; readonly renaming?: boolean };

/**
 * What writing a stored zstd frame gave: a WriteOutcome, or, with nothing written, a frame that
 * does not declare the expected size (`fallback`: decompress it on the main thread), one zstd
 * cannot decode (`corrupt`, zstd-napi's message), or content of another size or SHA-256 (`mismatch`).
 */
export type InflateOutcome = WriteOutcome | Refusal;

/** Writes restored key files and applies metadata on worker threads, in batches. */
export class WritePool {
  private readonly pool: BatchPool<Result>;

  constructor(size: number) {
    const { code, arg } = contentCheck();
    this.pool = new BatchPool<Result>(WORKER_SOURCE, size, (jobs) => packFrames(jobs as Job[], { code, arg }));
  }

  /**
   * Decompresses a stored zstd `frame`, checks it is `expected` (size and SHA-256), then writes it
   * as createFile (no `temp`) or writeFile (to `temp`, renamed to `dest`) would, metadata included.
   */
  async inflateFile(
    target: { readonly dest: string; readonly temp?: string },
    frame: Buffer,
    expected: { readonly size: number; readonly sha256: string },
    meta: Metadata,
  ): Promise<InflateOutcome> {
    const result = await this.pool.run({ op: 'inflate', ...target, frame, ...expected, meta } satisfies Job, frame.length + expected.size);
    return isRefusal(result) ? result : outcome(result);
  }

  /**
   * Writes `bytes` to `temp` (created 0600, never over an existing file) and renames it to `dest`;
   * then, given `meta`, applies it to `dest` in the same job (one round trip per file, not two).
   */
  async writeFile(temp: string, dest: string, bytes: Buffer, meta?: Metadata): Promise<WriteOutcome> {
    return outcome(await this.pool.run({ op: 'file', temp, dest, bytes, meta }, bytes.length));
  }

  /**
   * Creates `dest` (never over an existing name, so never through a symlink), writes `bytes` and
   * applies `meta` through the open descriptor: for a tree no one else writes into (a fresh
   * staging directory), where a temporary name and a rename add nothing but system calls.
   */
  async createFile(dest: string, bytes: Buffer, meta: Metadata): Promise<WriteOutcome> {
    return outcome(await this.pool.run({ op: 'create', dest, bytes, meta }, bytes.length));
  }

  /**
   * Creates directory `dir` (0700), or finds one already there; `found` names anything else there
   * (a symlink is never followed). On a writer thread: a restore makes one per folder of the tree,
   * and two libuv round trips each (lstat, mkdir) cost the main thread more than the calls.
   */
  async makeDir(dir: string): Promise<WriteOutcome & { readonly found?: 'symlink' | 'other' }> {
    const result = await this.pool.run({ op: 'dir', dir }, 0);
    if (!('threadError' in result) && !isRefusal(result) && result.found) return { found: result.found };
    return outcome(result);
  }

  /** Owner (when `chown`), mode (not for a symlink) and mtime (seconds) of `dest`, not following a symlink. */
  async applyMetadata(dest: string, meta: Metadata): Promise<WriteOutcome> {
    return outcome(await this.pool.run({ op: 'meta', dest, ...meta }, 0));
  }
}

/** A job as queued; an inflate job's `frame` leaves it for the message's shared buffer (packFrames). */
type Job = { op: string; frame?: Uint8Array; frameAt?: number; frameLength?: number; [field: string]: unknown };

/**
 * Copies the frames of a message's inflate jobs into one buffer that the message moves to the
 * thread: a frame is often a view into a whole decrypted frame, all of which a message would
 * otherwise copy (64 KiB and more for a 2 KB key file), and a copy of its own per key file was
 * 100k buffers for a restore's main thread to allocate and collect.
 */
function packFrames(jobs: Job[], shared: { code: string; arg: unknown }): { jobs: Job[]; shared: object; transfer?: ArrayBuffer[] } {
  let total = 0;
  for (const job of jobs) if (job.frame) total += job.frame.byteLength;
  if (total === 0) return { jobs, shared };
  const frames = new Uint8Array(total);
  let offset = 0;
  for (const job of jobs) {
    if (!job.frame) continue;
    frames.set(job.frame, offset);
    job.frameAt = offset;
    job.frameLength = job.frame.byteLength;
    offset += job.frame.byteLength;
    job.frame = undefined;
  }
  return { jobs, shared: { ...shared, frames: frames.buffer }, transfer: [frames.buffer] };
}

function outcome(result: Result): WriteOutcome {
  if ('threadError' in result) return { error: result.threadError as NodeJS.ErrnoException };
  // Only inflate jobs refuse, and inflateFile hands a refusal back before coming here.
  if (isRefusal(result)) throw new Error('a write job answered with a refusal');
  if (!result.error) return {};
  // The error as the main thread's fs call would have thrown it (code, errno, syscall, path).
  const error = Object.assign(new Error(result.error.message), result.error) as NodeJS.ErrnoException;
  return { error, renaming: result.renaming };
}

function isRefusal(result: Result): result is Refusal {
  return 'fallback' in result || 'corrupt' in result || 'mismatch' in result;
}

let shared: WritePool | undefined;

/**
 * The process's pool: two writers (the work is system calls, which a second thread overlaps with
 * the first's: 100k files on tmpfs 9.3 -> 8.5 s, for its isolate's ~25 MiB).
 */
export function writePool(): WritePool {
  shared ??= new WritePool(2);
  return shared;
}
