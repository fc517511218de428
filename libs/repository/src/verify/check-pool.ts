import { availableParallelism } from 'node:os';
import { contentCheck } from '@tresor/archive';
import type { FrameCheck } from '@tresor/archive';
import { BatchPool } from '@tresor/source';

/** What a verify thread sends as a frame's length when it is not one: check it here instead, or zstd cannot decode it. */
const FALLBACK = -1;
const CORRUPT = -2;

/**
 * The verify threads' code (CommonJS, evaluated, like the reader threads'): each stored zstd frame
 * of a group goes through the archive's check (contentCheck). Both ways the message is a few typed
 * arrays rather than an object per frame, whose cloning cost the main thread more than the checks:
 * in, the frames in one buffer and their (at, length, size) triples; out, per group, each frame's
 * length (FALLBACK or CORRUPT instead when so) and SHA-256, and the corrupt frames' messages.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
let check;
parentPort.on('message', ({ id, jobs, shared }) => {
  check ??= new Function('require', 'return (' + shared.code + ');')(require);
  const bytes = Buffer.from(shared.bytes);
  const layout = new Float64Array(shared.layout);
  const transfer = [];
  const results = jobs.map(({ from, count }) => {
    const lengths = new Float64Array(count);
    const digests = Buffer.alloc(32 * count);
    const problems = {};
    for (let i = 0; i < count; i++) {
      const [at, length, size] = layout.subarray(3 * (from + i), 3 * (from + i) + 3);
      const found = check(bytes.subarray(at, at + length), size, shared.arg);
      if (found.fallback) lengths[i] = ${FALLBACK};
      else if (found.corrupt !== undefined) (lengths[i] = ${CORRUPT}), (problems[i] = found.corrupt);
      else (lengths[i] = found.length), digests.write(found.sha256, 32 * i, 'hex');
    }
    transfer.push(lengths.buffer, digests.buffer);
    return { lengths, digests, problems };
  });
  parentPort.postMessage({ id, results }, transfer);
});
`;
/** One frame to check: the stored bytes of an entry's content and the entry's recorded size. */
export interface FrameToCheck {
  readonly frame: Buffer;
  readonly size: number;
}

/** A group's findings as a verify thread sends them (see WORKER_SOURCE). */
interface GroupFindings {
  readonly lengths: Float64Array;
  readonly digests: Uint8Array;
  readonly problems: Record<number, string>;
}

/**
 * Decompresses and hashes small zstd contents for deep verify on worker threads, a group of
 * frames per job, so that the main thread only reads, decrypts and compares.
 */
export class ContentCheckPool {
  private readonly pool: BatchPool<GroupFindings | { threadError: Error }>;

  constructor(size: number) {
    const { code, arg } = contentCheck();
    this.pool = new BatchPool(WORKER_SOURCE, size, (payloads) => {
      const groups = payloads as FrameToCheck[][];
      // One copy of the message's frames into a buffer of its own, moved (not cloned) to the thread.
      const frames = groups.flat();
      const bytes = new Uint8Array(frames.reduce((sum, item) => sum + item.frame.length, 0));
      const layout = new Float64Array(3 * frames.length);
      let at = 0;
      for (let i = 0; i < frames.length; i++) {
        const { frame, size } = frames[i]!;
        bytes.set(frame, at);
        layout[3 * i] = at;
        layout[3 * i + 1] = frame.length;
        layout[3 * i + 2] = size;
        at += frame.length;
      }
      let from = 0;
      const jobs = groups.map((group) => ({ from: (from += group.length) - group.length, count: group.length }));
      return { jobs, shared: { code, arg, bytes: bytes.buffer, layout: layout.buffer }, transfer: [bytes.buffer, layout.buffer] };
    });
  }

  /** The findings for a group of frames, in order; a dead thread rejects. */
  async check(group: readonly FrameToCheck[]): Promise<FrameCheck[]> {
    const weight = group.reduce((sum, item) => sum + item.frame.length, 0);
    const result = await this.pool.run(group, weight);
    if ('threadError' in result) throw result.threadError;
    const digests = Buffer.from(result.digests.buffer, result.digests.byteOffset, result.digests.byteLength);
    return Array.from(result.lengths, (length, i): FrameCheck => {
      if (length === FALLBACK) return { fallback: true };
      if (length === CORRUPT) return { corrupt: result.problems[i]! };
      return { length, sha256: digests.toString('hex', 32 * i, 32 * i + 32) };
    });
  }
}

let shared: ContentCheckPool | undefined;

/** The process's pool: one thread per core, at most two (the main thread reads and decrypts meanwhile). */
export function contentCheckPool(): ContentCheckPool {
  shared ??= new ContentCheckPool(Math.max(1, Math.min(2, availableParallelism())));
  return shared;
}
