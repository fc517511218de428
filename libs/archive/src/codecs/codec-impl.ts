import type { Duplex } from 'node:stream';

/** What each codec file provides: streaming, constant-memory transforms in both directions. */
export interface CodecImpl {
  compressor(level: number): Duplex;
  decompressor(): Duplex;
  /**
   * One-shot compression of a small buffer, for codecs that can do it in-process. Optional: it
   * spares small key files the set-up cost of a stream, which dominates their compression time.
   * Its output must be decodable by `decompressor()`.
   */
  compressBuffer?(content: Buffer, level: number): Buffer;
  /**
   * One-shot decompression of a small buffer whose decompressed size is known; undefined when the
   * data does not declare a size this codec can check up front (the caller then streams).
   * Never produces more than `expectedSize` + 1 bytes, so a hostile entry cannot balloon.
   */
  decompressBuffer?(compressed: Buffer, expectedSize: number): Buffer | undefined;
}
