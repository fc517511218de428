import { Worker } from 'node:worker_threads';
import type { SourceEntry, SourceProblem } from '../source.js';
import { FAILURE_SOURCE } from './errno.js';
import type { ErrnoFailure } from './errno.js';
import { NAMES_SOURCE } from './names.js';

/** Items the scan thread sends per message: few messages, and a bounded walk ahead of the consumer. */
export const SCAN_BATCH = 256;
/** Batches asked for ahead of the one being consumed, so the thread walks while the main thread works. */
const BATCHES_AHEAD = 2;

/**
 * The worker's code (CommonJS, evaluated: it needs no loader, whatever runs the main thread). A
 * depth-first walk with synchronous calls (readdir, lstat, access where needed, readlink), which
 * off the main thread cost far less than a promise round trip per call on it. Each directory's
 * names are sorted as bytes, with a directory's own entry ("a") before its contents ("a/"), so
 * paths come out in byte order. The walk is a generator: each message asks for the next SCAN_BATCH items.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
${NAMES_SOURCE}
${FAILURE_SOURCE}
const SCAN_BATCH = ${SCAN_BATCH};
const base = workerData.root.endsWith('/') ? workerData.root : workerData.root + '/';
const slash = Buffer.from('/');
// This process's effective uid, unless it is the uid that owners unmapped in a user namespace
// show as (then it owns nothing for sure): see describe's read check.
const overflowUid = (() => {
  try {
    return Number(fs.readFileSync('/proc/sys/fs/overflowuid', 'utf8'));
  } catch {
    return 65534;
  }
})();
const euid = process.geteuid && process.geteuid() !== overflowUid ? process.geteuid() : -1;
function kindOf(info) {
  if (info.isFile()) return 'file';
  if (info.isDirectory()) return 'dir';
  if (info.isSymbolicLink()) return 'symlink';
  if (info.isFIFO()) return 'FIFO';
  if (info.isSocket()) return 'socket';
  if (info.isBlockDevice()) return 'block device';
  if (info.isCharacterDevice()) return 'character device';
  return 'special file';
}
function describe(path, step) {
  const full = base + path;
  let info;
  try {
    info = fs.lstatSync(full, { bigint: true });
  } catch (err) {
    step.skip.descend = true;
    return { path, failure: failure(err), doing: 'cannot stat' };
  }
  const kind = kindOf(info);
  if ((kind === 'dir') !== step.isDir) {
    step.skip.descend = true;
    return { path, problem: 'vanished', message: 'changed between directory or not during the scan; it was left out' };
  }
  const mode = Number(info.mode & 0o7777n);
  const uid = Number(info.uid);
  const gid = Number(info.gid);
  const mtimeNs = info.mtimeNs.toString();
  const ino = Number(info.ino);
  const dev = Number(info.dev);
  if (kind === 'dir') return { path, mode, uid, gid, mtimeNs, ino, dev, type: 'dir', size: 0 };
  if (kind === 'file') {
    // A file this process owns with the owner's read bit set is readable as far as the mode
    // decides (the kernel checks an owner's access by those bits alone): no access() call for the
    // common key store, which cost ~0.2 s of a 100k-file scan (ADR 35). Another file is checked
    // now. What the mode does not decide (a security module, a network file system's own rules)
    // shows when the backup reads the file; an unchanged file is not read, and keeps the content
    // its parent backup read.
    if (uid !== euid || (mode & 0o400) === 0) {
      try {
        fs.accessSync(full, fs.constants.R_OK);
      } catch (err) {
        return { path, failure: failure(err), doing: 'cannot read file' };
      }
    }
    return { path, mode, uid, gid, mtimeNs, ino, dev, type: 'file', size: Number(info.size) };
  }
  if (kind === 'symlink') {
    let target;
    try {
      target = fs.readlinkSync(full, { encoding: 'buffer' });
    } catch (err) {
      return { path, failure: failure(err), doing: 'cannot read symlink' };
    }
    const problem = nameProblem(target);
    if (problem !== undefined) return { path, problem: 'bad-name', message: 'symlink target ' + problem + '; it was left out' };
    return { path, mode, uid, gid, mtimeNs, ino, dev, type: 'symlink', size: 0, linkTarget: decodeName(target) };
  }
  return { path, problem: 'unsupported-type', message: 'is a ' + kind + '; only files, directories and symlinks are backed up' };
}
function* walk(dirPath) {
  let dirents;
  try {
    dirents = fs.readdirSync(dirPath === '' ? base : base + dirPath, { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    yield { path: dirPath, failure: failure(err), doing: 'cannot list directory' };
    return;
  }
  const steps = [];
  for (const dirent of dirents) {
    const raw = dirent.name;
    const isDir = dirent.isDirectory();
    // Shared by a directory's two steps: set when its entry step found it unusable.
    const skip = { descend: false };
    steps.push({ raw, sortKey: raw, descend: false, isDir, skip });
    if (isDir && nameProblem(raw) === undefined) steps.push({ raw, sortKey: Buffer.concat([raw, slash]), descend: true, isDir, skip });
  }
  steps.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
  for (const step of steps) {
    const problem = nameProblem(step.raw);
    const name = problem === undefined ? decodeName(step.raw) : displayName(step.raw);
    const path = dirPath === '' ? name : dirPath + '/' + name;
    if (problem !== undefined) yield { path, problem: 'bad-name', message: 'name ' + problem + '; it was left out' };
    else if (!step.descend) yield describe(path, step);
    else if (!step.skip.descend) yield* walk(path);
  }
}
const walking = walk('');
let done = false;
parentPort.on('message', () => {
  const items = [];
  try {
    while (!done && items.length < SCAN_BATCH) {
      const next = walking.next();
      if (next.done) done = true;
      else items.push(next.value);
    }
  } catch (err) {
    parentPort.postMessage({ fatal: String((err && err.stack) || err) });
    return;
  }
  parentPort.postMessage({ items, done });
});
`;

/** A name the thread could not describe or list: the main thread words the problem (problemFor). */
export interface ScanFailure {
  readonly path: string;
  readonly failure: ErrnoFailure;
  readonly doing: string;
}

/** What the scan thread sends for each name, in walk order. */
export type ScannedItem = SourceEntry | SourceProblem | ScanFailure;

interface Reply {
  readonly items?: ScannedItem[];
  readonly done?: boolean;
  readonly fatal?: string;
}

/**
 * Walks a directory tree on a worker thread of its own, a batch of items per message, with
 * BATCHES_AHEAD batches asked for ahead of the one being consumed (memory bounded whatever the tree).
 */
export class ScanThread {
  private readonly worker: Worker;
  private readonly waiters: { resolve: (reply: Reply) => void; reject: (error: Error) => void }[] = [];
  private readonly requested: Promise<Reply>[] = [];
  private failure: Error | undefined;
  private finished = false;

  /** Starts walking `root` (absolute). */
  constructor(root: string) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { root } });
    this.worker.on('message', (reply: Reply) => {
      this.waiters.shift()?.resolve(reply);
      if (this.waiters.length === 0) this.worker.unref();
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    };
    this.worker.on('error', fail);
    this.worker.on('messageerror', fail);
    this.worker.on('exit', (code) => fail(new Error(`scan thread exited (code ${code})`)));
    for (let i = 0; i < BATCHES_AHEAD; i++) this.request();
  }

  /** The next batch of items, or undefined once the walk is over. */
  async next(): Promise<ScannedItem[] | undefined> {
    if (this.finished) return undefined;
    const request = this.requested.shift();
    // Only after a failure has next() nothing asked for: the walk cannot go on.
    if (!request) throw this.failure ?? new Error('the scan thread failed earlier');
    const reply = await request;
    if (reply.fatal !== undefined) {
      this.failure = new Error(`scan thread failed: ${reply.fatal}`);
      this.finished = true;
      throw this.failure;
    }
    if (reply.done) this.finished = true;
    else this.request();
    return reply.items!;
  }

  /**
   * Stops the thread (the walk may be abandoned midway), without waiting for it to exit: a
   * terminating thread does not always hold the event loop until its exit is reported.
   */
  close(): void {
    this.finished = true;
    this.worker.unref();
    this.worker.terminate().catch(() => undefined);
  }

  private request(): void {
    this.requested.push(
      new Promise<Reply>((resolve, reject) => {
        if (this.failure) return reject(this.failure);
        this.waiters.push({ resolve, reject });
        this.worker.ref();
        this.worker.postMessage(0);
      }),
    );
    // Rejections are delivered when next() reaches the request, not as unhandled ones now.
    this.requested[this.requested.length - 1]!.catch(() => undefined);
  }
}
