import { PassThrough } from 'node:stream';
import type { CodecImpl } from './codec-impl.js';

/** Stores content as it is (already-compressed or encrypted key material). */
export const noneCodec: CodecImpl = {
  compressor: () => new PassThrough(),
  compressBuffer: (content) => content,
  decompressBuffer: (compressed) => compressed,
  decompressor: () => new PassThrough(),
};
