import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { IoError, NotFoundError, UsageError } from '@tresor/errors';
import { recordReadTimes } from '../source.js';
import type { PreparedRead, ReadStep, ReadTimes, Source, SourceEntry, SourceProblem } from '../source.js';
import { describeErrno, errnoError, errnoOf } from './errno.js';
import { readPool } from './read-pool.js';
import { ScanThread } from './scan-thread.js';

const readChunkSize = 64 * 1024;
/** Never follow a final symlink, and never block on a FIFO swapped in for a file. */
const openFlags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** A directory tree as a backup source: key files, their directories and symlinks. */
export class FilesystemSource implements Source {
  readonly kind = 'filesystem';
  readonly location: string;

  /** `rootDir` is resolved against the working directory now, so the location is stable. */
  constructor(rootDir: string) {
    if (typeof rootDir !== 'string' || rootDir === '' || rootDir.includes('\0')) {
      throw new UsageError('source directory must be a non-empty path');
    }
    this.location = resolve(rootDir);
  }

  /**
   * Depth-first walk in byte order of paths, on a thread of its own (ScanThread): the main thread
   * only words the problems it met.
   */
  async *scan(): AsyncIterable<SourceEntry | SourceProblem> {
    for await (const batch of this.scanBatches()) yield* batch;
  }

  /** scan's items as the scan thread sends them, a batch per message. */
  async *scanBatches(): AsyncIterable<(SourceEntry | SourceProblem)[]> {
    await this.checkRoot();
    const walk = new ScanThread(this.location);
    try {
      for (let items = await walk.next(); items !== undefined; items = await walk.next()) {
        const batch: (SourceEntry | SourceProblem)[] = [];
        for (const item of items) {
          if (!('failure' in item)) {
            batch.push(item);
            continue;
          }
          const problem = this.problemFor(item.path, errnoError(item.failure), item.doing);
          // Path '' is the root itself: a source whose root cannot be listed cannot be backed up.
          if (item.path === '') throw new IoError(`cannot read source ${this.location}: ${problem.message}`);
          batch.push(problem);
        }
        yield batch;
      }
    } finally {
      walk.close();
    }
  }

  open(path: string): Readable {
    checkRelativePath(path);
    const stream: Readable = Readable.from(
      this.readFile(path, (times) => recordReadTimes(stream, times)),
      { objectMode: false, highWaterMark: readChunkSize },
    );
    return stream;
  }

  /** Reads a small file whole on the shared reader threads, in batches with other reads. */
  async readWhole(path: string, sizeHint: number): Promise<Buffer> {
    // Without a step the bytes always come back.
    return (await this.readPrepared(path, sizeHint)).content!;
  }

  /** readWhole, with `step` run on the reader thread that read the file. */
  async readPrepared(path: string, sizeHint: number, step?: ReadStep): Promise<PreparedRead> {
    checkRelativePath(path);
    const outcome = await readPool().read(join(this.location, path), sizeHint, step);
    if ('length' in outcome) return outcome;
    if ('notFile' in outcome) {
      throw new IoError(`cannot read ${path} in source ${this.location}: no longer a regular file`);
    }
    throw new IoError(`cannot read ${path} in source ${this.location}: ${describeErrno(outcome.error)}`, {
      cause: outcome.error,
    });
  }

  /** Streams a file in chunks; at its end, `done` gets the handle's times (a same-size rewrite shows only there). */
  private async *readFile(path: string, done: (times: ReadTimes) => void): AsyncGenerator<Buffer> {
    const full = join(this.location, path);
    const failure = (err: unknown): IoError =>
      new IoError(`cannot read ${path} in source ${this.location}: ${describeErrno(err)}`, { cause: err });
    const handle = await open(full, openFlags).catch((err: unknown) => {
      throw failure(err);
    });
    try {
      const opened = await handle.stat({ bigint: true });
      if (!opened.isFile()) {
        throw new IoError(`cannot read ${path} in source ${this.location}: no longer a regular file`);
      }
      for (;;) {
        const buffer = Buffer.allocUnsafe(readChunkSize);
        const { bytesRead } = await handle.read(buffer, 0, readChunkSize, null);
        if (bytesRead === 0) break;
        yield buffer.subarray(0, bytesRead);
      }
      const after = await handle.stat({ bigint: true });
      done({ mtimeNs: after.mtimeNs.toString(), ctimeMoved: after.ctimeNs !== opened.ctimeNs });
    } catch (err) {
      throw err instanceof IoError ? err : failure(err);
    } finally {
      await handle.close();
    }
  }

  private async checkRoot(): Promise<void> {
    let info;
    try {
      info = await stat(this.location);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR')
        throw new NotFoundError(`source ${this.location} does not exist`);
      throw new IoError(`cannot read source ${this.location}: ${describeErrno(err)}`, { cause: err });
    }
    if (!info.isDirectory()) throw new UsageError(`source ${this.location} is not a directory`);
  }

  private problemFor(path: string, err: unknown, doing: string): SourceProblem {
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return { path, problem: 'vanished', message: 'disappeared during the scan' };
    }
    if (code === undefined) throw err;
    return { path, problem: 'unreadable', message: `${doing}: ${describeErrno(err)}` };
  }
}

/** Refuses paths that could leave the source: absolute, empty segments, `.` or `..`. */
function checkRelativePath(path: string): void {
  const segments = typeof path === 'string' ? path.split('/') : [];
  if (
    segments.length === 0 ||
    path.includes('\0') ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..')
  ) {
    throw new UsageError(`source path ${JSON.stringify(path)} is not a relative path inside the source`);
  }
}
