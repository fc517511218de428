import { randomBytes } from 'node:crypto';
import { lstat, open, rename, rm, symlink, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { corruptData } from '@tresor/archive';
import type { Entry } from '@tresor/archive';
import { ConflictError, IntegrityError } from '@tresor/errors';
import { writePool } from './write-pool.js';
import type { Metadata, WriteOutcome } from './write-pool.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Writes entries under a root directory without ever following a symlink: every parent is
 * checked to be a real directory, files are written to a temporary name and renamed.
 */
export class TreeWriter {
  /**
   * Directories created or checked, or being so, by relative path: the staging tree is private, so
   * they stay as they are. Files of one directory are written several at once, and share one check
   * of it (a file's parent is found without walking its path again).
   */
  private readonly knownDirs = new Map<string, Promise<void>>();
  /**
   * Temporary names are this writer's random prefix and a count: as unguessable as random bytes
   * per file, which cost a getrandom call each (~7 ms per 1,000 files).
   */
  private readonly tempPrefix = `.tresor-tmp-${randomBytes(6).toString('hex')}-`;
  private tempCount = 0;

  /**
   * `fresh`: nothing but this writer puts names under `root` (a new staging directory, not a clone
   * of the target), so small files are created under their final names.
   */
  constructor(
    private readonly root: string,
    private readonly fresh = false,
  ) {}

  /** Creates the directories on the way to `path` (mode 0700 until their metadata is applied); errors name `forPath`. */
  ensureParents(path: string, forPath = path): Promise<void> {
    const cut = path.lastIndexOf('/');
    return cut === -1 ? Promise.resolve() : this.ensureDir(path.slice(0, cut), forPath);
  }

  /** Creates a directory entry (or checks that a directory is already there). */
  writeDir(entry: Entry): Promise<void> {
    return this.ensureDir(entry.path, entry.path);
  }

  /**
   * Writes a file's content, checking size and SHA-256 before it gets its final name (not yet
   * synced), then its metadata.
   */
  async writeFile(entry: Entry, content: Readable): Promise<void> {
    await this.ensureParents(entry.path);
    const dest = join(this.root, entry.path);
    await this.refuseDirectory(dest, entry.path);
    const temp = this.tempName(dest);
    const handle = await open(temp, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(content, async function (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.length;
          // A write may take only part of a chunk (a filling disk): write the rest, so a full disk
          // is an ENOSPC error here rather than a silently short file.
          for (let offset = 0; offset < chunk.length; ) {
            const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
            offset += bytesWritten;
          }
        }
      });
      if (size !== entry.size || hash.digest('hex') !== entry.sha256) {
        throw contentMismatch(entry);
      }
      // Durability comes from one filesystem sync before the staged tree is committed.
      await handle.close();
      await rename(temp, dest);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw err;
    }
    await this.applyMetadata(entry);
  }

  /**
   * Writes a small file's content already in memory (one read, one decompression): the same checks
   * as writeFile, made before anything is written, and the same temporary name and rename, without
   * the set-up of a stream pipeline per key file; the metadata is applied in the same writer job.
   */
  async writeFileBytes(entry: Entry, content: Buffer): Promise<void> {
    if (content.length !== entry.size || createHash('sha256').update(content).digest('hex') !== entry.sha256) {
      throw contentMismatch(entry);
    }
    await this.ensureParents(entry.path);
    const dest = join(this.root, entry.path);
    // On a writer thread: the whole buffer is written (a short write on a filling disk is continued,
    // so a full disk is an ENOSPC error) and a file it created is removed on failure; durability
    // comes from the sync before the tree is committed. In a fresh tree under the final name
    // (O_EXCL), otherwise under a temporary name then renamed (an EEXIST there is someone else's file).
    const written = this.fresh
      ? await writePool().createFile(dest, content, metadataOf(entry))
      : await writePool().writeFile(this.tempName(dest), dest, content, metadataOf(entry));
    await this.settle(entry, dest, written);
  }

  /**
   * Writes a key file from its stored zstd frame: a writer thread decompresses it and checks size
   * and SHA-256 before writing, as writeFileBytes does here. False, with nothing written, for a frame
   * that does not declare the file's size: the caller decompresses it itself.
   */
  async writeFileFrame(entry: Entry, frame: Buffer): Promise<boolean> {
    await this.ensureParents(entry.path);
    const dest = join(this.root, entry.path);
    const target = this.fresh ? { dest } : { dest, temp: this.tempName(dest) };
    const written = await writePool().inflateFile(target, frame, { size: entry.size, sha256: entry.sha256! }, metadataOf(entry));
    if ('fallback' in written) return false;
    if ('corrupt' in written) throw corruptData('zstd', new Error(written.corrupt));
    if ('mismatch' in written) throw contentMismatch(entry);
    await this.settle(entry, dest, written);
    return true;
  }

  /** Throws what a writer thread's job met, as the error a caller expects. */
  private async settle(entry: Entry, dest: string, { error, renaming }: WriteOutcome): Promise<void> {
    // A directory in the way: the rename fails with EISDIR (one lstat per file fewer than asking
    // first); in a fresh tree the create fails with EEXIST, and only a directory made for another
    // entry of the backup (a path below this one) can be there.
    const inTheWay = (renaming && error?.code === 'EISDIR') || (this.fresh && error?.code === 'EEXIST' && (await lstat(dest)).isDirectory());
    if (inTheWay) throw new ConflictError(`entry ${entry.path}: a directory is in the way at ${dest}`);
    if (error) throw error;
  }

  private tempName(dest: string): string {
    return `${dest}${this.tempPrefix}${(this.tempCount++).toString(36)}`;
  }

  /** Creates a symlink, replacing a file of the same name (never a directory). */
  async writeSymlink(entry: Entry): Promise<void> {
    await this.ensureParents(entry.path);
    const dest = join(this.root, entry.path);
    await this.refuseDirectory(dest, entry.path);
    await unlink(dest).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await symlink(entry.linkTarget ?? '', dest);
  }

  /** Applies owner (when root), mode and mtime as recorded. */
  async applyMetadata(entry: Entry): Promise<void> {
    const { error } = await writePool().applyMetadata(join(this.root, entry.path), metadataOf(entry));
    if (error) throw error;
  }

  /** The directory at relative path `dir` and those above it, each created or checked once. */
  private ensureDir(dir: string, forPath: string): Promise<void> {
    let known = this.knownDirs.get(dir);
    if (!known) {
      known = this.ensureParents(dir, forPath).then(() => this.checkDir(join(this.root, dir), forPath));
      this.knownDirs.set(dir, known);
      // A failed check is not remembered: the next entry below it fails on its own.
      known.catch(() => this.knownDirs.delete(dir));
    }
    return known;
  }

  private async checkDir(dir: string, forPath: string): Promise<void> {
    const { error, found } = await writePool().makeDir(dir);
    if (found === 'symlink') throw new IntegrityError(`entry ${forPath}: ${dir} is a symlink; refusing to write through it`);
    if (found === 'other') throw new ConflictError(`entry ${forPath}: ${dir} exists and is not a directory`);
    if (error) throw error;
  }

  private async refuseDirectory(dest: string, path: string): Promise<void> {
    const stat = await lstat(dest).catch(() => undefined);
    if (stat?.isDirectory()) throw new ConflictError(`entry ${path}: a directory is in the way at ${dest}`);
  }
}

/** Restored content of another size or SHA-256 than its entry records. */
function contentMismatch(entry: Entry): IntegrityError {
  return new IntegrityError(`entry ${entry.path}: restored content does not match its recorded size and SHA-256`);
}

/** The metadata recorded for an entry, as the writer threads apply it. */
function metadataOf(entry: Entry): Metadata {
  return {
    symlink: entry.type === 'symlink',
    chown: isRoot,
    uid: entry.uid,
    gid: entry.gid,
    mode: entry.mode & 0o7777,
    mtime: Number(BigInt(entry.mtimeNs)) / 1e9,
  };
}
