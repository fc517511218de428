import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  createBrotliCompress,
  createBrotliDecompress,
} from 'node:zlib';
import type { CodecImpl } from './codec-impl.js';
import { corruptData, withZlibIntegrityErrors } from './corrupt-data.js';

/** Brotli (RFC 7932) through node:zlib; the level is brotli's quality. */
export const brotliCodec: CodecImpl = {
  compressor: (level) => createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: level } }),
  compressBuffer: (content, level) =>
    brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: level } }),
  decompressor: () => withZlibIntegrityErrors(createBrotliDecompress(), 'brotli'),
  decompressBuffer: (compressed, expectedSize) => {
    try {
      return brotliDecompressSync(compressed, { maxOutputLength: expectedSize + 1 });
    } catch (err) {
      throw corruptData('brotli', err);
    }
  },
};
