import { createRequire } from 'node:module';
import { validateLevel } from './codecs/index.js';
import type { Codec } from './entry.js';

/** A file's content already hashed and compressed (by a reader thread), for ArchiveWriter.addPrepared. */
export interface PreparedContent {
  /** Plaintext length. */
  readonly size: number;
  /** Hex SHA-256 of the plaintext. */
  readonly sha256: string;
  /** The plaintext compressed exactly as compressBuffer(codec, level) would (same library and parameters). */
  readonly compressed: Buffer;
}

/**
 * Code a source's reader thread runs on a file it just read (see ReadStep in @tresor/source): the
 * SHA-256, and the zstd frame that codecs/zstd.ts's compressBuffer makes (one reusable context per
 * level, checksum on). Plain CommonJS, evaluated in the thread, so it needs no loader or bundle.
 */
const PREPARE_SOURCE = `(() => {
  const { createHash } = require('node:crypto');
  const contexts = new Map();
  return (content, arg, arena) => {
    let context = contexts.get(arg.level);
    if (!context) {
      const { Compressor } = require(arg.zstd);
      context = new Compressor();
      context.setParameters({ compressionLevel: arg.level, checksumFlag: true });
      contexts.set(arg.level, context);
    }
    const frame = context.compress(content);
    // A copy in the batch's shared memory: moving the frame itself could take a pool's memory with it.
    const compressed = arena.copy(frame);
    const sha256 = createHash('sha256').update(content).digest('hex');
    return { value: { size: content.length, sha256, compressed }, transfer: [] };
  };
})()`;

/**
 * Code a verify or restore thread runs on a stored zstd frame: the frame's declared size, its
 * decompression in one call and the SHA-256 of the result, with the same zstd-napi calls as
 * codecs/zstd.ts's decompressBuffer. A CommonJS expression evaluating to `(frame, size, arg) =>
 * FrameCheck`, with the decompressed `content` beside length and SHA-256 for a thread that writes
 * it (a restore); evaluated in the thread like PREPARE_SOURCE.
 */
const CHECK_SOURCE = `(() => {
  const { createHash } = require('node:crypto');
  let binding;
  let decompressor;
  return (frame, size, arg) => {
    binding ??= require(arg.binding);
    decompressor ??= new (require(arg.zstd).Decompressor)();
    try {
      if (binding.getFrameContentSize(frame) !== size) return { fallback: true };
      const content = decompressor.decompress(frame);
      return { length: content.length, sha256: createHash('sha256').update(content).digest('hex'), content };
    } catch (err) {
      return { corrupt: String((err && err.message) || err) };
    }
  };
})()`;

/** What checking a stored zstd frame off the main thread found (contentCheck). */
export type FrameCheck =
  /** `content`: the decompressed bytes, in the thread that checked them (a verify thread sends back only length and SHA-256). */
  | { readonly length: number; readonly sha256: string; readonly content?: Buffer }
  /** The frame does not declare the expected size: check it by the general (streaming) path. */
  | { readonly fallback: true }
  /** zstd could not decode it; the message is zstd-napi's (corruptData words the error). */
  | { readonly corrupt: string };

let zstdModule: string | undefined;
let zstdBinding: string | undefined;

/** The check a thread makes of stored zstd frames for deep verify and restore (CHECK_SOURCE and its argument). */
export function contentCheck(): { code: string; arg: unknown } {
  const require = createRequire(import.meta.url);
  zstdModule ??= require.resolve('zstd-napi');
  zstdBinding ??= require.resolve('zstd-napi/binding');
  return { code: CHECK_SOURCE, arg: { zstd: zstdModule, binding: zstdBinding } };
}

/**
 * The read step that prepares content for `codec` at `level` on a reader thread, or undefined when
 * that codec is compressed on the main thread (only zstd, the default, is prepared off it).
 */
export function contentPreparation(
  codec: Codec,
  level: number,
): { code: string; arg: unknown; replacesContent: true } | undefined {
  validateLevel(codec, level);
  if (codec !== 'zstd') return undefined;
  zstdModule ??= createRequire(import.meta.url).resolve('zstd-napi');
  // The frame and hash are all a backup needs of a file's bytes: they need not come back too.
  return { code: PREPARE_SOURCE, arg: { level, zstd: zstdModule }, replacesContent: true };
}

/** The step's value as PreparedContent, if it is one and of `length` bytes of plaintext; undefined otherwise. */
export function preparedContent(value: unknown, length: number): PreparedContent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { size, sha256, compressed } = value as Record<string, unknown>;
  if (size !== length || typeof sha256 !== 'string' || !(compressed instanceof Uint8Array)) return undefined;
  return { size, sha256, compressed: Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength) };
}
