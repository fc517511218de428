import { BatchPool } from '@tresor/source';

/**
 * The writer threads' code (CommonJS, evaluated). Each job is a key file to write to its temporary
 * name and rename into place, or the metadata of one restored name, done with synchronous calls:
 * off the main thread they cost far less than a promise and a libuv round trip per system call.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
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
parentPort.on('message', ({ id, jobs }) => {
  parentPort.postMessage({ id, results: jobs.map((job) => (job.op === 'file' ? writeFile(job) : job.op === 'create' ? createFile(job) : applyMetadata(job))) });
});
`;

type Failure = { code?: string; errno?: number; syscall?: string; path?: string; dest?: string; message: string };
type Result = { error?: Failure; renaming?: boolean } | { threadError: Error };

/** What a restored name gets after its content: owner (when `chown`), mode (not for a symlink), mtime in seconds. */
export type Metadata = { symlink: boolean; chown: boolean; uid: number; gid: number; mode: number; mtime: number };

/** What one write or metadata job gave: nothing, or the error the fs call threw. */
export type WriteOutcome = { readonly error?: NodeJS.ErrnoException; readonly renaming?: boolean };

/** Writes restored key files and applies metadata on worker threads, in batches. */
export class WritePool {
  private readonly pool: BatchPool<Result>;

  constructor(size: number) {
    this.pool = new BatchPool<Result>(WORKER_SOURCE, size);
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

  /** Owner (when `chown`), mode (not for a symlink) and mtime (seconds) of `dest`, not following a symlink. */
  async applyMetadata(dest: string, meta: Metadata): Promise<WriteOutcome> {
    return outcome(await this.pool.run({ op: 'meta', dest, ...meta }, 0));
  }
}

function outcome(result: Result): WriteOutcome {
  if ('threadError' in result) return { error: result.threadError as NodeJS.ErrnoException };
  if (!result.error) return {};
  // The error as the main thread's fs call would have thrown it (code, errno, syscall, path).
  const error = Object.assign(new Error(result.error.message), result.error) as NodeJS.ErrnoException;
  return { error, renaming: result.renaming };
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
