import { constants } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { IoError, NotFoundError, UsageError } from '@tresor/errors';
import { recordReadTimes } from '../source.js';
import type { PreparedRead, ReadStep, ReadTimes, Source, SourceEntry, SourceProblem } from '../source.js';
import { describeErrno, errnoOf } from './errno.js';
import { decodeName, displayName, nameProblem } from './names.js';
import { readPool } from './read-pool.js';

const readChunkSize = 64 * 1024;
/** Never follow a final symlink, and never block on a FIFO swapped in for a file. */
const openFlags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const slash = Buffer.from('/');

/**
 * One step of the walk: yielding a name's entry, or listing it as a directory. A directory gets
 * both, sorted apart ("a" and "a/"), so the walk emits full paths in byte order.
 */
interface Step {
  readonly raw: Buffer;
  readonly sortKey: Buffer;
  readonly action: 'entry' | 'descend';
  /** Whether readdir saw a directory; checked against lstat to catch a swap mid-scan. */
  readonly isDir: boolean;
  /** Shared by a directory's two steps: set when its entry step found it unusable. */
  readonly skip: { descend: boolean };
}

interface Frame {
  readonly dirPath: string;
  readonly steps: Step[];
  next: number;
  /** lstat/access/readlink of the next entries of this directory, started before their turn. */
  readonly ahead: Map<number, Promise<SourceEntry | SourceProblem | undefined>>;
  /** Index of the last step whose description was started ahead. */
  aheadUntil: number;
  /** Subdirectories of this directory listed (and their first entries described) before their turn. */
  readonly listed: Map<number, Promise<Frame | SourceProblem>>;
  /** Index of the last step whose listing was considered for starting ahead. */
  listedUntil: number;
}

/** Entries of one directory described ahead of the one being yielded: hides syscall latency. */
const DESCRIBE_AHEAD = 32;
/**
 * Subdirectories of the current directory listed ahead of the walk: trees of many small
 * directories otherwise wait for one readdir and one thread round trip per directory.
 */
const LIST_AHEAD = 8;
/** Listed-ahead steps held at most: a level of huge sibling directories is not read ahead. */
const LIST_AHEAD_MAX_STEPS = 64 * 1024;

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

  /** Depth-first walk that holds one sorted listing per directory level and stats lazily. */
  async *scan(): AsyncIterable<SourceEntry | SourceProblem> {
    await this.checkRoot();
    const root = await this.openFrame('');
    if (!('steps' in root)) throw new IoError(`cannot read source ${this.location}: ${root.message}`);
    const stack: Frame[] = [root];
    const held = { steps: 0 };
    // What a listed-ahead directory held is given back once the walk takes or drops it.
    const release = (child: Frame | SourceProblem): Frame | SourceProblem => {
      if ('steps' in child) held.steps -= child.steps.length;
      return child;
    };
    this.listAhead(root, held);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const step = frame.steps[frame.next++];
      if (step === undefined) {
        stack.pop();
        continue;
      }
      const problem = nameProblem(step.raw);
      const path = joinPath(
        frame.dirPath,
        problem === undefined ? decodeName(step.raw) : displayName(step.raw),
      );
      if (problem !== undefined) {
        yield { path, problem: 'bad-name', message: `name ${problem}; it was left out` };
      } else if (step.action === 'entry') {
        const item = await this.describeAhead(frame, frame.next - 1, path, step);
        if (item !== undefined) yield item;
      } else {
        const started = frame.listed.get(frame.next - 1);
        frame.listed.delete(frame.next - 1);
        if (step.skip.descend) {
          started?.then(release, () => undefined);
          continue;
        }
        const child = started ? release(await started) : await this.openFrame(path);
        if ('steps' in child) {
          stack.push(child);
          this.listAhead(child, held);
        } else yield child;
        this.listAhead(frame, held);
      }
    }
  }

  /** Lists a directory and starts describing its first entries. */
  private async openFrame(dirPath: string): Promise<Frame | SourceProblem> {
    const steps = await this.listDir(dirPath);
    if (!Array.isArray(steps)) return steps;
    const frame: Frame = { dirPath, steps, next: 0, ahead: new Map(), aheadUntil: -1, listed: new Map(), listedUntil: -1 };
    this.startDescribes(frame, 0);
    return frame;
  }

  /** Starts listing the next subdirectories of `frame` (up to LIST_AHEAD waiting, LIST_AHEAD_MAX_STEPS held). */
  private listAhead(frame: Frame, held: { steps: number }): void {
    for (let i = frame.listedUntil + 1; i < frame.steps.length; i++) {
      if (frame.listed.size >= LIST_AHEAD || held.steps >= LIST_AHEAD_MAX_STEPS) return;
      frame.listedUntil = i;
      const step = frame.steps[i]!;
      if (step.action !== 'descend' || step.skip.descend) continue;
      const listing = this.openFrame(joinPath(frame.dirPath, decodeName(step.raw))).then((child) => {
        if ('steps' in child) held.steps += child.steps.length;
        return child;
      });
      // A listing the walk skips (its entry proved not to be a directory) is dropped unread.
      listing.catch(() => undefined);
      frame.listed.set(i, listing);
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

  /** The sorted steps of one directory, or the problem that kept it from being listed. */
  private async listDir(path: string): Promise<Step[] | SourceProblem> {
    let dirents;
    try {
      dirents = await readdir(join(this.location, path), { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      return this.problemFor(path, err, 'cannot list directory');
    }
    const steps: Step[] = [];
    for (const dirent of dirents) {
      const raw = dirent.name;
      const isDir = dirent.isDirectory();
      const skip = { descend: false };
      steps.push({ raw, sortKey: raw, action: 'entry', isDir, skip });
      if (isDir && nameProblem(raw) === undefined) {
        steps.push({ raw, sortKey: Buffer.concat([raw, slash]), action: 'descend', isDir, skip });
      }
    }
    return steps.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
  }

  /**
   * Describes step `index` of a directory, having started the next few entry steps too. Their
   * results are used in order, so the walk is as deterministic as a one-at-a-time one.
   */
  private describeAhead(
    frame: Frame,
    index: number,
    path: string,
    step: Step,
  ): Promise<SourceEntry | SourceProblem | undefined> {
    // Started in runs of half the window, so they reach the reader threads together.
    if (frame.aheadUntil < index + DESCRIBE_AHEAD / 2) this.startDescribes(frame, index + 1);
    const started = frame.ahead.get(index);
    frame.ahead.delete(index);
    return started ?? this.describe(path, step);
  }

  /** Starts describing the entry steps of `frame` from index `from` to the end of the window. */
  private startDescribes(frame: Frame, from: number): void {
    const until = Math.min(frame.steps.length - 1, from - 1 + DESCRIBE_AHEAD);
    for (let i = Math.max(from, frame.aheadUntil + 1); i <= until; i++) {
      const next = frame.steps[i]!;
      if (next.action !== 'entry' || nameProblem(next.raw) !== undefined) continue;
      frame.ahead.set(i, this.describe(joinPath(frame.dirPath, decodeName(next.raw)), next));
    }
    frame.aheadUntil = Math.max(frame.aheadUntil, until);
  }

  /**
   * The entry for one name, or the problem that keeps it out of the backup. The calls (lstat,
   * access for a file, readlink for a symlink) run on the shared reader threads, batched with
   * those of the next names of the directory.
   */
  private async describe(path: string, step: Step): Promise<SourceEntry | SourceProblem | undefined> {
    const described = await readPool().describe(join(this.location, path));
    if ('error' in described) {
      step.skip.descend = true;
      return this.problemFor(path, described.error, 'cannot stat');
    }
    const info = described.stat;
    if ((info.kind === 'dir') !== step.isDir) {
      step.skip.descend = true;
      return {
        path,
        problem: 'vanished',
        message: 'changed between directory or not during the scan; it was left out',
      };
    }
    const base = {
      path,
      mode: info.mode,
      uid: info.uid,
      gid: info.gid,
      mtimeNs: info.mtimeNs,
      ino: info.ino,
      dev: info.dev,
    };
    if (info.kind === 'dir') return { ...base, type: 'dir', size: 0 };
    if (info.kind === 'file') {
      if ('accessError' in described && described.accessError) {
        return this.problemFor(path, described.accessError, 'cannot read file');
      }
      return { ...base, type: 'file', size: info.size };
    }
    if (info.kind === 'symlink') {
      if ('linkError' in described) return this.problemFor(path, described.linkError, 'cannot read symlink');
      const target = 'target' in described ? described.target : Buffer.alloc(0);
      const problem = nameProblem(target);
      if (problem !== undefined)
        return { path, problem: 'bad-name', message: `symlink target ${problem}; it was left out` };
      return { ...base, type: 'symlink', size: 0, linkTarget: decodeName(target) };
    }
    return {
      path,
      problem: 'unsupported-type',
      message: `is a ${info.kind}; only files, directories and symlinks are backed up`,
    };
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

function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
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
