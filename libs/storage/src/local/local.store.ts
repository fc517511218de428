import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { chmod, link, mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { ConflictError, IntegrityError, IoError, NotFoundError, UsageError } from '@tresor/errors';
import { normalizeExpectedSha256, validateByteRange } from '../arguments.js';
import { refuseRetention } from '../remote/retention.js';
import { isValidKeySegment, validateKeyPrefix, validateObjectKey } from '../keys.js';
import type {
  ByteRange,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  StoreCapabilities,
} from '../object-store.js';
import type { LocalConfig } from './config.js';
import {
  dirMode,
  isDirectory,
  mkdirPrivate,
  pathExists,
  removeStaleTemps,
  syncDir,
  writeDurably,
} from './durable-fs.js';
import { hasErrno, toIoError } from './errno.js';
import { hashStream, THREAD_AFTER_BYTES } from '../hash-stream.js';
import { hashFile } from '../hash-thread.js';

/** Where puts are staged; inside the root so the final link never crosses filesystems. */
const tempDirName = '.tmp';
/** A temp file this old belongs to a put that died; younger ones may belong to a live writer. */
const staleTempAgeMs = 60 * 60 * 1000;
/** Bytes per read when an object is streamed: whole archives are hashed by verify, and 64 KiB reads made that wait on the disk thread 6,000 times per 375 MiB. */
const readChunkBytes = 1024 * 1024;

interface DirItem {
  readonly name: string;
  readonly isDir: boolean;
}

/**
 * Objects as files under a root directory, one file per key. Puts are staged in `.tmp/`, fsynced,
 * and hard-linked into place, so a key appears whole or not at all and two writers cannot both win.
 */
export class LocalStore implements ObjectStore {
  readonly location: string;
  readonly capabilities: StoreCapabilities = {
    immutability: false,
    rangedReads: true,
    serverSideCopy: false,
  };
  private readonly tempDir: string;

  private constructor(private readonly root: string) {
    this.location = `local:${root}`;
    this.tempDir = join(root, tempDirName);
  }

  /** Opens the store, creating its directory if needed and removing temp files of dead puts. */
  static async open(config: LocalConfig): Promise<LocalStore> {
    const store = new LocalStore(config.path);
    await store.prepare();
    return store;
  }

  async put(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    try {
      this.checkKey(key);
      refuseRetention(options, this.location);
      const expected = normalizeExpectedSha256(options.expectedSha256);
      const target = this.pathOf(key);
      // Cheap early refusal; the link below is what actually guarantees no replacement.
      if (await pathExists(target)) throw await this.explainConflict(key, target);
      const temp = join(this.tempDir, randomUUID());
      try {
        const result = await writeDurably(temp, body);
        if (expected !== undefined && result.sha256 !== expected) {
          throw new IntegrityError(
            `object ${key} for ${this.location} hashes to ${result.sha256}, expected ${expected}; nothing stored`,
          );
        }
        await this.ensureParents(key);
        await this.linkNew(key, temp, target);
        await syncDir(dirname(target));
        return result;
      } finally {
        await rm(temp, { force: true });
      }
    } catch (err) {
      if (body instanceof Readable && !body.destroyed) body.destroy();
      throw toIoError(err, `cannot store object ${key} in ${this.location}`);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    this.checkKey(key);
    validateByteRange(range);
    const handle = await this.openObject(key);
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw this.notFound(key);
      const start = range?.offset ?? 0;
      if (start > info.size) {
        throw new UsageError(
          `range offset ${start} is past the end of object ${key} (${info.size} bytes) in ${this.location}`,
        );
      }
      const end = range?.length === undefined ? info.size : Math.min(info.size, start + range.length);
      if (end === start) {
        await handle.close();
        return Readable.from([], { objectMode: false });
      }
      return handle.createReadStream({ start, end: end - 1, highWaterMark: readChunkBytes });
    } catch (err) {
      await handle.close();
      throw toIoError(err, `cannot read object ${key} in ${this.location}`);
    }
  }

  /** One positional read into one buffer: an archive reader's window without a stream or a copy. */
  async readRange(key: string, offset: number, length: number): Promise<Buffer> {
    this.checkKey(key);
    validateByteRange({ offset, length });
    const handle = await this.openObject(key);
    try {
      const buffer = Buffer.allocUnsafe(length);
      let filled = 0;
      // A regular file answers a read in full unless it ends first; the loop is for the rest.
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? buffer : buffer.subarray(0, filled);
    } catch (err) {
      // EISDIR: a directory where the object would be is no object.
      if (hasErrno(err, 'EISDIR')) throw this.notFound(key);
      throw toIoError(err, `cannot read object ${key} in ${this.location}`);
    } finally {
      await handle.close();
    }
  }

  /** The object's file, open for reading; NotFoundError if there is none. */
  private async openObject(key: string): Promise<FileHandle> {
    try {
      return await open(this.pathOf(key), 'r');
    } catch (err) {
      if (hasErrno(err, 'ENOENT', 'ENOTDIR')) throw this.notFound(key);
      throw toIoError(err, `cannot read object ${key} in ${this.location}`);
    }
  }

  /** Hashed on a thread that reads the file itself, past a few megabytes (below, streamed here). */
  async sha256(key: string): Promise<{ sha256: string; size: number }> {
    this.checkKey(key);
    const info = await this.info(key);
    if (!info) throw this.notFound(key);
    if (info.size < THREAD_AFTER_BYTES) return hashStream(await this.get(key));
    try {
      return await hashFile(this.pathOf(key));
    } catch (err) {
      if (hasErrno(err, 'ENOENT', 'ENOTDIR')) throw this.notFound(key);
      throw toIoError(err, `cannot read object ${key} in ${this.location}`);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.checkKey(key);
    return this.info(key);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validateKeyPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const startDir = slash === -1 ? '' : prefix.slice(0, slash);
    if (isReserved(startDir)) return;
    // Depth-first with one directory listing per level; see sortKey for why this is key order.
    const stack: { dirKey: string; items: DirItem[]; next: number }[] = [
      { dirKey: startDir, items: await this.readDir(startDir), next: 0 },
    ];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const item = top.items[top.next++];
      if (item === undefined) {
        stack.pop();
        continue;
      }
      const key = top.dirKey === '' ? item.name : `${top.dirKey}/${item.name}`;
      if (item.isDir) {
        const dirPrefix = `${key}/`;
        if (dirPrefix.startsWith(prefix) || prefix.startsWith(dirPrefix)) {
          stack.push({ dirKey: key, items: await this.readDir(key), next: 0 });
        }
      } else if (key.startsWith(prefix)) {
        const info = await this.info(key);
        if (info !== undefined) yield info;
      }
    }
  }

  async delete(key: string): Promise<void> {
    this.checkKey(key);
    const target = this.pathOf(key);
    try {
      await unlink(target);
      await syncDir(dirname(target));
    } catch (err) {
      // Missing, or a directory of other keys rather than an object: either way no object to remove.
      if (hasErrno(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) return;
      throw toIoError(err, `cannot delete object ${key} in ${this.location}`);
    }
  }

  private async prepare(): Promise<void> {
    try {
      const created = await mkdir(this.root, { recursive: true, mode: dirMode });
      if (created !== undefined) await chmod(this.root, dirMode);
      const rootInfo = await stat(this.root);
      if (!rootInfo.isDirectory()) throw new IoError(`${this.location} is not a directory`);
      await mkdirPrivate(this.tempDir);
      await removeStaleTemps(this.tempDir, Date.now() - staleTempAgeMs);
    } catch (err) {
      if (hasErrno(err, 'EEXIST', 'ENOTDIR'))
        throw new IoError(`${this.location} is not a directory`, { cause: err });
      throw toIoError(err, `cannot open ${this.location}`);
    }
  }

  private checkKey(key: string): void {
    validateObjectKey(key);
    if (isReserved(key)) {
      throw new UsageError(
        `object key ${key} is reserved: ${tempDirName}/ holds the local backend's temporary files`,
      );
    }
  }

  private pathOf(key: string): string {
    return join(this.root, key);
  }

  private async info(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { key, size: info.size, modified: info.mtime } : undefined;
    } catch (err) {
      if (hasErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw toIoError(err, `cannot read object ${key} in ${this.location}`);
    }
  }

  /** The entries of a key directory that can be keys, ordered so that a depth-first walk yields sorted keys. */
  private async readDir(dirKey: string): Promise<DirItem[]> {
    let dirents;
    try {
      dirents = await readdir(this.pathOf(dirKey || '.'), { withFileTypes: true });
    } catch (err) {
      if (hasErrno(err, 'ENOENT', 'ENOTDIR')) return [];
      throw toIoError(err, `cannot list ${dirKey || 'objects'} in ${this.location}`);
    }
    const items: DirItem[] = [];
    for (const dirent of dirents) {
      if (dirKey === '' && dirent.name === tempDirName) continue;
      if (!isValidKeySegment(dirent.name)) continue;
      if (dirent.isFile() || dirent.isDirectory())
        items.push({ name: dirent.name, isDir: dirent.isDirectory() });
    }
    return items.sort((a, b) => compare(sortKey(a), sortKey(b)));
  }

  /** Creates the missing directories above a key, 0700 whatever the umask, each made durable. */
  private async ensureParents(key: string): Promise<void> {
    const segments = key.split('/').slice(0, -1);
    if (segments.length === 0 || (await isDirectory(join(this.root, ...segments)))) return;
    let dir = this.root;
    for (const segment of segments) {
      const parent = dir;
      dir = join(dir, segment);
      if (await mkdirPrivate(dir)) await syncDir(parent);
    }
  }

  /** Links the staged file to its key; link(2) fails rather than replace, which makes puts exclusive. */
  private async linkNew(key: string, temp: string, target: string): Promise<void> {
    try {
      await link(temp, target);
    } catch (err) {
      throw hasErrno(err, 'EEXIST', 'ENOTDIR') ? await this.explainConflict(key, target) : err;
    }
  }

  private notFound(key: string): NotFoundError {
    return new NotFoundError(`object ${key} not found in ${this.location}`);
  }

  private conflict(key: string): ConflictError {
    return new ConflictError(`object ${key} already exists in ${this.location}; objects are never replaced`);
  }

  /** Says why a key is taken: the object exists, or the key collides with a directory of other keys. */
  private async explainConflict(key: string, target: string): Promise<ConflictError> {
    if (await isDirectory(target)) {
      return new ConflictError(
        `object key ${key} collides with existing keys under ${key}/ in ${this.location}`,
      );
    }
    if (await pathExists(target)) return this.conflict(key);
    return new ConflictError(`a parent of object key ${key} is an existing object in ${this.location}`);
  }
}

function isReserved(key: string): boolean {
  return key === tempDirName || key.startsWith(`${tempDirName}/`);
}

/**
 * A directory sorts as its name plus '/', because every key below it starts with that: the
 * directory's whole subtree then falls exactly where its keys belong among its siblings
 * (`a-b` < `a/x` < `a0`, since '-' < '/' < '0').
 */
function sortKey(item: DirItem): string {
  return item.isDir ? `${item.name}/` : item.name;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
