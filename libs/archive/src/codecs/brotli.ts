import { brotliCompressSync, constants, createBrotliCompress, createBrotliDecompress } from 'node:zlib';
import type { CodecImpl } from './codec-impl.js';
import { withZlibIntegrityErrors } from './corrupt-data.js';

/** Brotli (RFC 7932) through node:zlib; the level is brotli's quality. */
export const brotliCodec: CodecImpl = {
  compressor: (level) => createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: level } }),
  compressBuffer: (content, level) =>
    brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: level } }),
  decompressor: () => withZlibIntegrityErrors(createBrotliDecompress(), 'brotli'),
};
