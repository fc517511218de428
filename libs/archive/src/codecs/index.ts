import type { Duplex } from 'node:stream';
import type { Codec } from '../entry.js';
import { brotliCodec } from './brotli.js';
import { bzip2Codec } from './bzip2.js';
import { parseCodec, validateLevel } from './codec.js';
import type { CodecImpl } from './codec-impl.js';
import { gzipCodec } from './gzip.js';
import { noneCodec } from './none.js';
import { xzCodec } from './xz.js';
import { zstdCodec } from './zstd.js';

export { CODEC_NAMES, CODECS, isCodec, parseCodec, validateLevel } from './codec.js';
export type { CodecLevels } from './codec.js';
export { corruptData } from './corrupt-data.js';

const IMPLEMENTATIONS: Record<Codec, CodecImpl> = {
  none: noneCodec,
  gzip: gzipCodec,
  brotli: brotliCodec,
  xz: xzCodec,
  bzip2: bzip2Codec,
  zstd: zstdCodec,
};

/** A streaming compressor; UsageError for an unknown codec or a level out of range. */
export function createCompressor(codec: Codec, level: number): Duplex {
  validateLevel(codec, level);
  return IMPLEMENTATIONS[codec].compressor(level);
}

/** A streaming decompressor; undecodable input fails it with IntegrityError. */
export function createDecompressor(codec: Codec): Duplex {
  return IMPLEMENTATIONS[parseCodec(codec)].decompressor();
}

/**
 * Compresses a small buffer in one call when the codec can do so in-process; undefined when it
 * cannot (the caller then streams).
 */
export function compressBuffer(codec: Codec, level: number, content: Buffer): Buffer | undefined {
  validateLevel(codec, level);
  return IMPLEMENTATIONS[codec].compressBuffer?.(content, level);
}

/**
 * Decompresses a small buffer in one call when the codec can bound its output by `expectedSize`;
 * undefined when it cannot (the caller then streams).
 */
export function decompressBuffer(codec: Codec, compressed: Buffer, expectedSize: number): Buffer | undefined {
  return IMPLEMENTATIONS[parseCodec(codec)].decompressBuffer?.(compressed, expectedSize);
}
