import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { chmod, lstat, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { UsageError } from '@tresor/errors';
import type { PutResult } from '../object-store.js';
import { hasErrno } from './errno.js';
import { HashThread } from '../hash-thread.js';

export const fileMode = 0o600;
export const dirMode = 0o700;
/** Bytes gathered before a write. */
const writeBatchBytes = 1024 * 1024;
/**
 * Bytes written between flushes of the file to the disk while it is still being written: the last
 * fsync then waits for at most this much rather than for the whole object (a first backup's 375 MiB
 * archive left 0.1 s to 2 s to the end, by the disk's mood; the kernel starts writing back on its
 * own only past 10 % of RAM dirty).
 */
const syncEveryBytes = 32 * 1024 * 1024;

/**
 * Streams `body` into a new file at `path`, hashing as it goes, and fsyncs it before returning.
 * What takes more than one write is hashed on a thread of its own (HashThread).
 */
export async function writeDurably(path: string, body: Readable | Uint8Array): Promise<PutResult> {
  const handle = await open(path, 'wx', fileMode);
  let thread: HashThread | undefined;
  let syncing: Promise<void> | undefined;
  try {
    await handle.chmod(fileMode);
    const hash = createHash('sha256');
    let size = 0;
    // Chunks (an archive comes in 64 KiB frames) are written a megabyte at a time: one system call
    // and one wait on the disk thread per megabyte instead of per frame.
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let unsynced = 0;
    const flush = async (last: boolean) => {
      const parts = pending;
      const length = pendingBytes;
      pending = [];
      pendingBytes = 0;
      await writeAll(handle, parts);
      if ((unsynced += length) >= syncEveryBytes && !last) {
        unsynced = 0;
        // One flush at a time, beside the writes that follow it; its failure is thrown where it
        // is awaited (the next flush, the end or the cleanup), never left unhandled meanwhile.
        await syncing;
        const flushing = handle.datasync();
        flushing.catch(() => undefined);
        syncing = flushing;
      }
      // An object written at once is hashed here: a thread is not worth starting for it.
      if (last && !thread) for (const part of parts) hash.update(part);
      else await (thread ??= new HashThread()).update(...parts);
    };
    for await (const chunk of body instanceof Uint8Array ? [body] : body) {
      const bytes = toBytes(chunk);
      size += bytes.length;
      pending.push(bytes);
      pendingBytes += bytes.length;
      if (pendingBytes >= writeBatchBytes) await flush(false);
    }
    await flush(true);
    const sha256 = thread ? await thread.digestHex() : hash.digest('hex');
    await syncing;
    await handle.sync();
    return { size, sha256 };
  } finally {
    // A flush still running when the write failed: its outcome no longer matters, only its end.
    await syncing?.catch(() => undefined);
    await thread?.stop();
    await handle.close();
  }
}

/**
 * Writes all of `parts`, in order, with writev (a megabyte gathered from 64 KiB frames and their
 * tags goes out without being copied into one buffer), writing on after a short write.
 */
async function writeAll(handle: FileHandle, parts: Uint8Array[]): Promise<void> {
  let rest = parts;
  while (rest.length > 0) {
    let written = (await handle.writev(rest)).bytesWritten;
    let done = 0;
    while (done < rest.length && written >= rest[done]!.byteLength) written -= rest[done++]!.byteLength;
    rest = done < rest.length ? [rest[done]!.subarray(written), ...rest.slice(done + 1)] : [];
  }
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new UsageError('object body yielded a chunk that is neither bytes nor a string');
}

/** Makes `dir` (0700 regardless of umask); false when it already existed. */
export async function mkdirPrivate(dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { mode: dirMode });
  } catch (err) {
    if (hasErrno(err, 'EEXIST')) return false;
    throw err;
  }
  await chmod(dir, dirMode);
  return true;
}

/** Makes a directory's entries (a new link, an unlink) survive a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some filesystems cannot fsync a directory; their entries are as durable as they get.
    if (!hasErrno(err, 'EINVAL', 'ENOTSUP')) throw err;
  } finally {
    await handle.close();
  }
}

/** Removes entries of `tempDir` last modified before `olderThanMs`. */
export async function removeStaleTemps(tempDir: string, olderThanMs: number): Promise<void> {
  for (const name of await readdir(tempDir)) {
    const path = join(tempDir, name);
    try {
      if ((await lstat(path)).mtimeMs < olderThanMs) await rm(path, { force: true, recursive: true });
    } catch (err) {
      // Another process may be cleaning up at the same time.
      if (!hasErrno(err, 'ENOENT')) throw err;
    }
  }
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (hasErrno(err, 'ENOENT', 'ENOTDIR')) return false;
    throw err;
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    if (hasErrno(err, 'ENOENT', 'ENOTDIR')) return false;
    throw err;
  }
}
