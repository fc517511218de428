import { availableParallelism } from 'node:os';
import { contentCheck } from '@tresor/archive';
import type { FrameCheck } from '@tresor/archive';
import { BatchPool } from '@tresor/source';

/**
 * The verify threads' code (CommonJS, evaluated, like the reader threads'): each stored zstd frame
 * of a group goes through the archive's check (contentCheck). A message's frames arrive in one buffer.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
let check;
parentPort.on('message', ({ id, jobs, shared }) => {
  check ??= new Function('require', 'return (' + shared.code + ');')(require);
  const bytes = Buffer.from(shared.bytes);
  const results = jobs.map((group) => group.map(({ at, length, size }) => check(bytes.subarray(at, at + length), size, shared.arg)));
  parentPort.postMessage({ id, results });
});
`;

/** One frame to check: the stored bytes of an entry's content and the entry's recorded size. */
export interface FrameToCheck {
  readonly frame: Buffer;
  readonly size: number;
}

/**
 * Decompresses and hashes small zstd contents for deep verify on worker threads, a group of
 * frames per job, so that the main thread only reads, decrypts and compares.
 */
export class ContentCheckPool {
  private readonly pool: BatchPool<FrameCheck[] | { threadError: Error }>;

  constructor(size: number) {
    const { code, arg } = contentCheck();
    this.pool = new BatchPool(WORKER_SOURCE, size, (payloads) => {
      const groups = payloads as FrameToCheck[][];
      // One copy of the message's frames into a buffer of its own, moved (not cloned) to the thread.
      const bytes = new Uint8Array(groups.flat().reduce((sum, item) => sum + item.frame.length, 0));
      let at = 0;
      const jobs = groups.map((group) =>
        group.map(({ frame, size }) => {
          bytes.set(frame, at);
          at += frame.length;
          return { at: at - frame.length, length: frame.length, size };
        }),
      );
      return { jobs, shared: { code, arg, bytes: bytes.buffer }, transfer: [bytes.buffer] };
    });
  }

  /** The findings for a group of frames, in order; a dead thread rejects. */
  async check(group: readonly FrameToCheck[]): Promise<FrameCheck[]> {
    const weight = group.reduce((sum, item) => sum + item.frame.length, 0);
    const result = await this.pool.run(group, weight);
    if ('threadError' in result) throw result.threadError;
    return result;
  }
}

let shared: ContentCheckPool | undefined;

/** The process's pool: one thread per core, at most two (the main thread reads and decrypts meanwhile). */
export function contentCheckPool(): ContentCheckPool {
  shared ??= new ContentCheckPool(Math.max(1, Math.min(2, availableParallelism())));
  return shared;
}
