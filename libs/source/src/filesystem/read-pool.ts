import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ReadStep } from '../source.js';

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
const steps = new Map();
function runStep(step, content) {
  let fn = steps.get(step.code);
  if (!fn) {
    fn = new Function('require', 'return (' + step.code + ');')(require);
    steps.set(step.code, fn);
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
parentPort.on('message', ({ id, files, steps }) => {
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
      const info = fs.fstatSync(fd);
      if (!info.isFile()) {
        results.push({ notFile: true });
        continue;
      }
      // One byte more than expected: a file that did not grow is read in one call plus none.
      let buffer = Buffer.allocUnsafeSlow(Math.max(sizeHint, info.size) + 1);
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
      const result = { bytes: buffer.buffer, length: filled };
      if (step !== undefined) {
        try {
          const done = runStep(steps[step], buffer.subarray(0, filled));
          result.prepared = done.value;
          transfer.push(...done.transfer);
        } catch (err) {
          result.stepFailed = String(err && err.message || err);
        }
      }
      results.push(result);
      transfer.push(buffer.buffer);
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

/** What reading one file gave; `prepared` is its step's value (absent if the step failed). */
export type ReadOutcome =
  | { readonly content: Buffer; readonly prepared?: unknown }
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
  | {
      readonly op: 'read';
      readonly path: string;
      readonly sizeHint: number;
      readonly step?: ReadStep;
      readonly resolve: (outcome: ReadOutcome) => void;
    }
  | {
      readonly op: 'describe';
      readonly path: string;
      readonly sizeHint: 0;
      readonly step?: undefined;
      readonly resolve: (outcome: DescribeOutcome) => void;
    };

type RawResult =
  | { bytes: ArrayBuffer; length: number; prepared?: unknown; stepFailed?: string }
  | { notFile: true }
  | { error: Failure }
  | { stat: StatInfo; accessError?: Failure; target?: Uint8Array; linkError?: Failure };

interface Reply {
  readonly id: number;
  readonly results: RawResult[];
}

/** Files sent to a worker in one message, and their expected bytes: few messages, bounded memory. */
const BATCH_FILES = 64;
const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Reads small files whole on worker threads, in batches: requests made while the workers are busy
 * queue up and go together in the next message. Workers start on first use and never keep the
 * process alive while idle.
 */
export class ReadPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Request[] = [];
  private readonly inFlight = new Map<number, { worker: Worker; batch: Request[] }>();
  private started = 0;
  private nextId = 0;
  private scheduled = false;

  constructor(private readonly size: number) {}

  /** The whole content of the file at `path` (absolute), or why it could not be read. */
  read(path: string, sizeHint: number, step?: ReadStep): Promise<ReadOutcome> {
    return new Promise((resolve) => this.enqueue({ op: 'read', path, sizeHint, step, resolve }));
  }

  /** lstat of `path` (absolute, not followed), with access(R_OK) for a file and readlink for a symlink. */
  describe(path: string): Promise<DescribeOutcome> {
    return new Promise((resolve) => this.enqueue({ op: 'describe', path, sizeHint: 0, resolve }));
  }

  private enqueue(request: Request): void {
    this.queue.push(request);
    if (!this.scheduled) {
      this.scheduled = true;
      // Requests made in the same tick go out together.
      queueMicrotask(() => {
        this.scheduled = false;
        this.dispatch();
      });
    }
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.started < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const batch: Request[] = [];
      let bytes = 0;
      while (
        this.queue.length > 0 &&
        batch.length < BATCH_FILES &&
        (batch.length === 0 || bytes < BATCH_BYTES)
      ) {
        const request = this.queue.shift()!;
        bytes += request.sizeHint;
        batch.push(request);
      }
      const id = this.nextId++;
      this.inFlight.set(id, { worker, batch });
      worker.ref();
      // Each distinct step goes once per message; files name it by index.
      const steps: ReadStep[] = [];
      const files = batch.map(({ op, path, sizeHint, step }) => {
        if (!step) return { op, path, sizeHint };
        let index = steps.indexOf(step);
        if (index === -1) index = steps.push(step) - 1;
        return { op, path, sizeHint, step: index };
      });
      worker.postMessage({ id, files, steps });
    }
  }

  private spawn(): Worker {
    this.started++;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const job = this.inFlight.get(reply.id)!;
      this.inFlight.delete(reply.id);
      worker.unref();
      this.idle.push(worker);
      job.batch.forEach((request, i) => settle(request, reply.results[i]!));
      this.dispatch();
    });
    // A worker that dies fails its batch (each read gets the error) and is replaced on demand.
    let dead = false;
    const fail = (error: Error) => {
      if (dead) return;
      dead = true;
      this.started--;
      const at = this.idle.indexOf(worker);
      if (at !== -1) this.idle.splice(at, 1);
      for (const [id, job] of this.inFlight) {
        if (job.worker !== worker) continue;
        this.inFlight.delete(id);
        for (const request of job.batch) request.resolve({ error: error as NodeJS.ErrnoException });
      }
      this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`file reader thread exited (code ${code})`)));
    return worker;
  }
}

function settle(request: Request, result: RawResult): void {
  if (request.op === 'describe') {
    if ('stat' in result) {
      const { stat, accessError, target, linkError } = result;
      if (accessError) request.resolve({ stat, accessError: toError(accessError) });
      else if (linkError) request.resolve({ stat, linkError: toError(linkError) });
      else if (target)
        request.resolve({ stat, target: Buffer.from(target.buffer, target.byteOffset, target.byteLength) });
      else request.resolve({ stat });
    } else if ('error' in result) {
      request.resolve({ error: toError(result.error) });
    }
    return;
  }
  if ('bytes' in result) {
    const content = Buffer.from(result.bytes, 0, result.length);
    request.resolve('prepared' in result ? { content, prepared: result.prepared } : { content });
  }
  else if ('notFile' in result) request.resolve({ notFile: true });
  else if ('error' in result) request.resolve({ error: toError(result.error) });
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
