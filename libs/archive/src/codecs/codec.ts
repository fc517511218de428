import { UsageError } from '@tresor/errors';
import type { Codec } from '../entry.js';

/** Levels a codec accepts; the default balances speed and ratio for small key files. */
export interface CodecLevels {
  readonly minLevel: number;
  readonly maxLevel: number;
  readonly defaultLevel: number;
}

/** Every codec with its level range. zstd stops at 19: 20-22 ("ultra") need 64-128 MiB windows to decode. */
export const CODECS: Readonly<Record<Codec, CodecLevels>> = {
  none: { minLevel: 0, maxLevel: 0, defaultLevel: 0 },
  gzip: { minLevel: 1, maxLevel: 9, defaultLevel: 6 },
  brotli: { minLevel: 0, maxLevel: 11, defaultLevel: 6 },
  xz: { minLevel: 0, maxLevel: 9, defaultLevel: 6 },
  bzip2: { minLevel: 1, maxLevel: 9, defaultLevel: 9 },
  zstd: { minLevel: 1, maxLevel: 19, defaultLevel: 3 },
};

/** Codec names in the order they are offered to users. */
export const CODEC_NAMES = Object.keys(CODECS) as Codec[];

/** True when `name` is a codec this build knows. */
export function isCodec(name: string): name is Codec {
  return Object.hasOwn(CODECS, name);
}

/** The codec called `name` (case-insensitive); UsageError listing the choices otherwise. */
export function parseCodec(name: string): Codec {
  const normalised = String(name).trim().toLowerCase();
  if (isCodec(normalised)) return normalised;
  throw new UsageError(`unknown compression codec '${name}' (choose ${CODEC_NAMES.join(', ')})`);
}

/** UsageError unless `level` is a whole number inside `codec`'s range. */
export function validateLevel(codec: Codec, level: number): void {
  const { minLevel, maxLevel } = CODECS[parseCodec(codec)];
  if (!Number.isInteger(level) || level < minLevel || level > maxLevel) {
    const range = minLevel === maxLevel ? `only ${minLevel}` : `${minLevel}-${maxLevel}`;
    throw new UsageError(`compression level ${level} is out of range for ${codec} (${range})`);
  }
}
