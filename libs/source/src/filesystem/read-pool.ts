import { availableParallelism } from 'node:os';
import type { ReadStep } from '../source.js';
import { BatchPool } from './batch-pool.js';
import { errnoError, FAILURE_SOURCE } from './errno.js';
import type { ErrnoFailure } from './errno.js';

/** Size of the blocks that steps' copies share (ReadStep's `arena`). */
const ARENA_BLOCK_BYTES = 256 * 1024;
/**
 * Files up to this size are read into one reused buffer when their step replaces their bytes (a
 * backup reads files of up to 1 MiB this way): 100k fewer buffers to allocate and collect.
 */
const SCRATCH_LIMIT_BYTES = 2 * 1024 * 1024;

/**
 * The worker's code (CommonJS, evaluated: it needs no loader, whatever runs the main thread). It
 * reads whole each file of a batch with synchronous calls,
 * which off the main thread cost far less than a promise round trip per call on the main thread.
 * A read may carry a step (see ReadStep) that the thread runs on the bytes it just read.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
${FAILURE_SOURCE}
const compiled = new Map();
function runStep(step, content, arena) {
  let fn = compiled.get(step.code);
  if (!fn) {
    fn = new Function('require', 'return (' + step.code + ');')(require);
    compiled.set(step.code, fn);
  }
  return fn(content, step.arg, arena);
}
/** Copies that a step keeps go into shared blocks, moved with the batch's reply: one buffer per block, not per file. */
const ARENA_BLOCK = ${ARENA_BLOCK_BYTES};
let block, blockUsed = 0, blocks = [];
const arena = {
  copy(bytes) {
    if (bytes.length > ARENA_BLOCK / 4) {
      const own = new Uint8Array(bytes.length);
      own.set(bytes);
      blocks.push(own.buffer);
      return own;
    }
    if (block === undefined || blockUsed + bytes.length > ARENA_BLOCK) {
      block = new ArrayBuffer(ARENA_BLOCK);
      blockUsed = 0;
      blocks.push(block);
    }
    const view = new Uint8Array(block, blockUsed, bytes.length);
    view.set(bytes);
    blockUsed += bytes.length;
    return view;
  },
};
/** The buffer files are read into when a step replaces their bytes (they are not sent back). */
const SCRATCH_LIMIT = ${SCRATCH_LIMIT_BYTES};
let scratch = Buffer.allocUnsafeSlow(64 * 1024);
function readBuffer(size, reusable) {
  if (!reusable || size > SCRATCH_LIMIT) return Buffer.allocUnsafeSlow(size);
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_LIMIT, Math.max(size, 2 * scratch.length)));
  return scratch;
}
parentPort.on('message', ({ id, jobs: files, shared: steps }) => {
  const results = [];
  const transfer = [];
  for (const { path, sizeHint, step } of files) {
    let fd = -1;
    try {
      fd = fs.openSync(path, flags);
      const info = fs.fstatSync(fd, { bigint: true });
      if (!info.isFile()) {
        results.push({ notFile: true });
        continue;
      }
      const replaced = step !== undefined && steps[step].replacesContent === true;
      // One byte more than expected: a file that did not grow fills less than the buffer in one call.
      let buffer = readBuffer(Math.max(sizeHint, Number(info.size)) + 1, replaced);
      let filled = 0;
      let after;
      for (;;) {
        if (filled === buffer.length) {
          const bigger = Buffer.allocUnsafeSlow(buffer.length * 2);
          buffer.copy(bigger, 0, 0, filled);
          buffer = bigger;
        }
        const n = fs.readSync(fd, buffer, filled, buffer.length - filled, null);
        filled += n;
        // The handle's times after the read: a rewrite since the scan (same size or not) moved them.
        // A short read that reached the size the handle now has is the end: no read of 0 bytes to
        // prove it (one system call of six per file); any other short read reads on.
        if (n === 0 || filled < buffer.length) {
          after = fs.fstatSync(fd, { bigint: true });
          if (n === 0 || BigInt(filled) === after.size) break;
        }
      }
      const result = { length: filled, mtimeNs: after.mtimeNs.toString(), ctimeMoved: after.ctimeNs !== info.ctimeNs };
      let sendBytes = true;
      if (step !== undefined) {
        try {
          const done = runStep(steps[step], buffer.subarray(0, filled), arena);
          result.prepared = done.value;
          transfer.push(...done.transfer);
          if (replaced) sendBytes = false;
        } catch (err) {
          result.stepFailed = String(err && err.message || err);
        }
      }
      if (sendBytes) {
        // The scratch buffer stays here: the bytes go in a buffer of their own (never a pooled one).
        let own = buffer;
        if (buffer === scratch) {
          own = Buffer.allocUnsafeSlow(filled);
          buffer.copy(own, 0, 0, filled);
        }
        result.bytes = own.buffer;
        transfer.push(own.buffer);
      }
      results.push(result);
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
  transfer.push(...blocks);
  block = undefined;
  blocks = [];
  parentPort.postMessage({ id, results }, transfer);
});
`;

/** What reading one file gave; `prepared` is its step's value (absent if the step failed), `content` absent if the step replaced it. */
export type ReadOutcome =
  | { readonly content?: Buffer; readonly length: number; readonly prepared?: unknown; readonly mtimeNs?: string; readonly ctimeMoved?: boolean }
  | { readonly notFile: true }
  | { readonly error: NodeJS.ErrnoException };

interface Request {
  readonly path: string;
  readonly sizeHint: number;
  readonly step?: ReadStep;
}

type RawResult =
  | { bytes?: ArrayBuffer; length: number; prepared?: unknown; stepFailed?: string; mtimeNs?: string; ctimeMoved?: boolean }
  | { notFile: true }
  | { error: ErrnoFailure }
  | { threadError: Error };

/**
 * Reads small files whole on worker threads, in batches (BatchPool).
 * Workers start on first use and never keep the process alive while idle.
 */
export class ReadPool {
  private readonly pool: BatchPool<RawResult>;

  constructor(size: number) {
    // Each distinct step goes once per message; files name it by index.
    this.pool = new BatchPool<RawResult>(WORKER_SOURCE, size, (payloads) => {
      const steps: ReadStep[] = [];
      const jobs = (payloads as Request[]).map(({ path, sizeHint, step }) => {
        if (!step) return { path, sizeHint };
        let index = steps.indexOf(step);
        if (index === -1) index = steps.push(step) - 1;
        return { path, sizeHint, step: index };
      });
      return { jobs, shared: steps };
    });
  }

  /** The whole content of the file at `path` (absolute), or why it could not be read. */
  async read(path: string, sizeHint: number, step?: ReadStep): Promise<ReadOutcome> {
    return settleRead(await this.pool.run({ path, sizeHint, step } satisfies Request, sizeHint));
  }
}

function settleRead(result: RawResult): ReadOutcome {
  if ('length' in result) {
    // One literal per file (spreads cost more here than the rest of settling a read).
    const { length, mtimeNs, ctimeMoved } = result;
    const content = result.bytes && Buffer.from(result.bytes, 0, length);
    const hasPrepared = 'prepared' in result;
    if (content) return hasPrepared ? { length, mtimeNs, ctimeMoved, content, prepared: result.prepared } : { length, mtimeNs, ctimeMoved, content };
    return hasPrepared ? { length, mtimeNs, ctimeMoved, prepared: result.prepared } : { length, mtimeNs, ctimeMoved };
  }
  if ('notFile' in result) return { notFile: true };
  return { error: errorOf(result) };
}

function errorOf(result: RawResult): NodeJS.ErrnoException {
  if ('threadError' in result) return result.threadError as NodeJS.ErrnoException;
  if ('error' in result) return errnoError(result.error);
  return new Error('unexpected reply from a file reader thread') as NodeJS.ErrnoException;
}

let shared: ReadPool | undefined;

/** The process's pool: two readers at most (more only contend for the disk and the cores). */
export function readPool(): ReadPool {
  shared ??= new ReadPool(Math.max(1, Math.min(2, availableParallelism())));
  return shared;
}
