import type { CodecImpl } from './codec-impl.js';
import { createProcessTransform } from './process-transform.js';

/**
 * xz through the system `xz` (XZ Utils). @napi-rs/lzma only offers whole-buffer calls at a fixed
 * preset, which would hold an entry (and its output) in memory and ignore the level; the xz
 * program streams in constant memory and takes every preset. `-T1` keeps it single-threaded so
 * memory stays at the preset's (94 MiB at -9) instead of growing with the core count.
 */
export const xzCodec: CodecImpl = {
  compressor: (level) =>
    createProcessTransform({
      codec: 'xz',
      direction: 'compress',
      program: 'xz',
      args: ['--compress', '--stdout', '--format=xz', '--check=crc64', '-T1', `-${level}`],
    }),
  decompressor: () =>
    createProcessTransform({
      codec: 'xz',
      direction: 'decompress',
      program: 'xz',
      args: ['--decompress', '--stdout', '--format=xz', '-T1'],
    }),
};
