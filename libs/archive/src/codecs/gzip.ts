import { createGunzip, createGzip, gunzipSync, gzipSync } from 'node:zlib';
import type { CodecImpl } from './codec-impl.js';
import { corruptData, withZlibIntegrityErrors } from './corrupt-data.js';

/** gzip (RFC 1952) through node:zlib. */
export const gzipCodec: CodecImpl = {
  compressor: (level) => createGzip({ level }),
  compressBuffer: (content, level) => gzipSync(content, { level }),
  decompressor: () => withZlibIntegrityErrors(createGunzip(), 'gzip'),
  decompressBuffer: (compressed, expectedSize) => {
    try {
      return gunzipSync(compressed, { maxOutputLength: expectedSize + 1 });
    } catch (err) {
      throw corruptData('gzip', err);
    }
  },
};
