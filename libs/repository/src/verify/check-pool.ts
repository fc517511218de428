import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { BatchPool } from '@tresor/source';

/**
 * The verify threads' code (CommonJS, evaluated, like the reader threads'): for each stored zstd
 * frame of a group, its declared size, its decompression in one call and the SHA-256 of the result,
 * with the same zstd-napi calls as codecs/zstd.ts's decompressBuffer. A message's frames arrive in
 * one buffer.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let zstd;
let binding;
let decompressor;
function check(frame, size) {
  try {
    if (binding.getFrameContentSize(frame) !== size) return { fallback: true };
    const content = decompressor.decompress(frame);
    return { length: content.length, sha256: createHash('sha256').update(content).digest('hex') };
  } catch (err) {
    return { corrupt: String((err && err.message) || err) };
  }
}
parentPort.on('message', ({ id, jobs, shared }) => {
  zstd ??= require(shared.zstd);
  binding ??= require(shared.binding);
  decompressor ??= new zstd.Decompressor();
  const bytes = Buffer.from(shared.bytes);
  const results = jobs.map((group) => group.map(({ at, length, size }) => check(bytes.subarray(at, at + length), size)));
  parentPort.postMessage({ id, results });
});
`;

/** What a verify thread found for one frame: the decompressed length and SHA-256, or why not. */
export type FrameCheck =
  | { readonly length: number; readonly sha256: string }
  /** The frame does not declare the expected size: check it by the general (streaming) path. */
  | { readonly fallback: true }
  /** zstd could not decode it; the message is zstd-napi's. */
  | { readonly corrupt: string };

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
    const require = createRequire(import.meta.url);
    const modules = { zstd: require.resolve('zstd-napi'), binding: require.resolve('zstd-napi/binding') };
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
      return { jobs, shared: { ...modules, bytes: bytes.buffer }, transfer: [bytes.buffer] };
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
