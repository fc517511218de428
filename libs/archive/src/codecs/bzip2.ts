import type { CodecImpl } from './codec-impl.js';
import { createProcessTransform } from './process-transform.js';

/**
 * bzip2 through the system `bzip2` (libbzip2's reference tool): npm has no maintained native
 * binding, and a pure-JS port would be slower and unaudited. One process per entry.
 */
export const bzip2Codec: CodecImpl = {
  compressor: (level) =>
    createProcessTransform({
      codec: 'bzip2',
      direction: 'compress',
      program: 'bzip2',
      args: ['-z', '-c', `-${level}`],
    }),
  decompressor: () =>
    createProcessTransform({ codec: 'bzip2', direction: 'decompress', program: 'bzip2', args: ['-d', '-c'] }),
};
