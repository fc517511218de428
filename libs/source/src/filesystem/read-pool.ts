import { availableParallelism } from 'node:os';
import type { ReadStep } from '../source.js';
import { BatchPool } from './batch-pool.js';

/**
 * The worker's code (CommonJS, evaluated: it needs no loader, whatever runs the main thread). It
 * describes (lstat, access, readlink) or reads whole each file of a batch with synchronous calls,
 * which off the main thread cost far less than a promise round trip per call on the main thread.
 * A read may carry a step (see ReadStep) that the thread runs on the bytes it just read.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
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
const failure = (err) => ({ code: err.code, errno: err.errno, syscall: err.syscall, message: err.message });
const compiled = new Map();
function runStep(step, content) {
  let fn = compiled.get(step.code);
  if (!fn) {
    fn = new Function('require', 'return (' + step.code + ');')(require);
    compiled.set(step.code, fn);
  }
  return fn(content, step.arg);
}
function describe(path) {
  let info;
  try {
    info = fs.lstatSync(path, { bigint: true });
  } catch (err) {
    return { error: failure(err) };
  }
  const stat = {
    kind: kindOf(info),
    mode: Number(info.mode & 0o7777n),
    uid: Number(info.uid),
    gid: Number(info.gid),
    mtimeNs: info.mtimeNs.toString(),
    size: Number(info.size),
    ino: Number(info.ino),
    dev: Number(info.dev),
  };
  if (stat.kind === 'file') {
    try {
      fs.accessSync(path, fs.constants.R_OK);
    } catch (err) {
      return { stat, accessError: failure(err) };
    }
  } else if (stat.kind === 'symlink') {
    try {
      return { stat, target: fs.readlinkSync(path, { encoding: 'buffer' }) };
    } catch (err) {
      return { stat, linkError: failure(err) };
    }
  }
  return { stat };
}
parentPort.on('message', ({ id, jobs: files, shared: steps }) => {
  const results = [];
  const transfer = [];
  for (const { op, path, sizeHint, step } of files) {
    if (op === 'describe') {
      results.push(describe(path));
      continue;
    }
    let fd = -1;
    try {
      fd = fs.openSync(path, flags);
      const info = fs.fstatSync(fd, { bigint: true });
      if (!info.isFile()) {
        results.push({ notFile: true });
        continue;
      }
      // One byte more than expected: a file that did not grow is read in one call plus none.
      let buffer = Buffer.allocUnsafeSlow(Math.max(sizeHint, Number(info.size)) + 1);
      let filled = 0;
      for (;;) {
        if (filled === buffer.length) {
          const bigger = Buffer.allocUnsafeSlow(buffer.length * 2);
          buffer.copy(bigger, 0, 0, filled);
          buffer = bigger;
        }
        const n = fs.readSync(fd, buffer, filled, buffer.length - filled, null);
        if (n === 0) break;
        filled += n;
      }
      // The handle's times after the read: a rewrite since the scan (same size or not) moved them.
      const after = fs.fstatSync(fd, { bigint: true });
      const result = { bytes: buffer.buffer, length: filled, mtimeNs: after.mtimeNs.toString(), ctimeMoved: after.ctimeNs !== info.ctimeNs };
      if (step !== undefined) {
        try {
          const done = runStep(steps[step], buffer.subarray(0, filled));
          result.prepared = done.value;
          transfer.push(...done.transfer);
          if (steps[step].replacesContent) delete result.bytes;
        } catch (err) {
          result.stepFailed = String(err && err.message || err);
        }
      }
      results.push(result);
      if (result.bytes) transfer.push(buffer.buffer);
    } catch (err) {
      results.push({ error: failure(err) });
    } finally {
      if (fd !== -1) {
        try {
          fs.closeSync(fd);
        } catch {}
      }
    }
  }
  parentPort.postMessage({ id, results }, transfer);
});
`;

/** What reading one file gave; `prepared` is its step's value (absent if the step failed), `content` absent if the step replaced it. */
export type ReadOutcome =
  | { readonly content?: Buffer; readonly length: number; readonly prepared?: unknown; readonly mtimeNs?: string; readonly ctimeMoved?: boolean }
  | { readonly notFile: true }
  | { readonly error: NodeJS.ErrnoException };

/** lstat of one name, as the source records it. */
export interface StatInfo {
  readonly kind:
    'file' | 'dir' | 'symlink' | 'FIFO' | 'socket' | 'block device' | 'character device' | 'special file';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeNs: string;
  readonly size: number;
  readonly ino: number;
  readonly dev: number;
}

/** What describing one name gave: its lstat, and for a file whether it may be read, for a symlink its target. */
export type DescribeOutcome =
  | { readonly error: NodeJS.ErrnoException }
  | { readonly stat: StatInfo; readonly accessError?: NodeJS.ErrnoException }
  | { readonly stat: StatInfo; readonly target: Buffer }
  | { readonly stat: StatInfo; readonly linkError: NodeJS.ErrnoException };

type Failure = { code?: string; errno?: number; syscall?: string; message: string };

type Request =
  | { readonly op: 'read'; readonly path: string; readonly sizeHint: number; readonly step?: ReadStep }
  | { readonly op: 'describe'; readonly path: string; readonly sizeHint: 0; readonly step?: undefined };

type RawResult =
  | { bytes?: ArrayBuffer; length: number; prepared?: unknown; stepFailed?: string; mtimeNs?: string; ctimeMoved?: boolean }
  | { notFile: true }
  | { error: Failure }
  | { stat: StatInfo; accessError?: Failure; target?: Uint8Array; linkError?: Failure }
  | { threadError: Error };

/**
 * Reads small files whole, and describes names, on worker threads in batches (BatchPool).
 * Workers start on first use and never keep the process alive while idle.
 */
export class ReadPool {
  private readonly pool: BatchPool<RawResult>;

  constructor(size: number) {
    // Each distinct step goes once per message; files name it by index.
    this.pool = new BatchPool<RawResult>(WORKER_SOURCE, size, (payloads) => {
      const steps: ReadStep[] = [];
      const jobs = (payloads as Request[]).map(({ op, path, sizeHint, step }) => {
        if (!step) return { op, path, sizeHint };
        let index = steps.indexOf(step);
        if (index === -1) index = steps.push(step) - 1;
        return { op, path, sizeHint, step: index };
      });
      return { jobs, shared: steps };
    });
  }

  /** The whole content of the file at `path` (absolute), or why it could not be read. */
  async read(path: string, sizeHint: number, step?: ReadStep): Promise<ReadOutcome> {
    return settleRead(await this.pool.run({ op: 'read', path, sizeHint, step }, sizeHint));
  }

  /** lstat of `path` (absolute, not followed), with access(R_OK) for a file and readlink for a symlink. */
  async describe(path: string): Promise<DescribeOutcome> {
    return settleDescribe(await this.pool.run({ op: 'describe', path, sizeHint: 0 }, 0));
  }
}

function settleDescribe(result: RawResult): DescribeOutcome {
  if ('stat' in result) {
    const { stat, accessError, target, linkError } = result;
    if (accessError) return { stat, accessError: toError(accessError) };
    if (linkError) return { stat, linkError: toError(linkError) };
    if (target) return { stat, target: Buffer.from(target.buffer, target.byteOffset, target.byteLength) };
    return { stat };
  }
  return { error: errorOf(result) };
}

function settleRead(result: RawResult): ReadOutcome {
  if ('length' in result) {
    const read = { length: result.length, mtimeNs: result.mtimeNs, ctimeMoved: result.ctimeMoved };
    const content = result.bytes && Buffer.from(result.bytes, 0, result.length);
    const withContent = content ? { ...read, content } : read;
    return 'prepared' in result ? { ...withContent, prepared: result.prepared } : withContent;
  }
  if ('notFile' in result) return { notFile: true };
  return { error: errorOf(result) };
}

function errorOf(result: RawResult): NodeJS.ErrnoException {
  if ('threadError' in result) return result.threadError as NodeJS.ErrnoException;
  if ('error' in result) return toError(result.error);
  return new Error('unexpected reply from a file reader thread') as NodeJS.ErrnoException;
}

/** A system error as the main thread's fs calls would have thrown it (code, errno, syscall). */
function toError(failure: Failure): NodeJS.ErrnoException {
  return Object.assign(new Error(failure.message), failure) as NodeJS.ErrnoException;
}

let shared: ReadPool | undefined;

/** The process's pool: two readers at most (more only contend for the disk and the cores). */
export function readPool(): ReadPool {
  shared ??= new ReadPool(Math.max(1, Math.min(2, availableParallelism())));
  return shared;
}
