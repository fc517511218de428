import type { Duplex } from 'node:stream';

/** What each codec file provides: streaming, constant-memory transforms in both directions. */
export interface CodecImpl {
  compressor(level: number): Duplex;
  decompressor(): Duplex;
}
