import { describe, expect, it } from 'vitest';
import { UsageError } from '@tresor/errors';
import { CODECS, parseCodec, validateLevel } from './codec.js';

describe('codec table', () => {
  it('parses known codecs case-insensitively', () => {
    expect(parseCodec('zstd')).toBe('zstd');
    expect(parseCodec(' GZIP ')).toBe('gzip');
  });

  it('names the choices for an unknown codec', () => {
    expect(() => parseCodec('lz4')).toThrow(UsageError);
    expect(() => parseCodec('lz4')).toThrow(
      "unknown compression codec 'lz4' (choose none, gzip, brotli, xz, bzip2, zstd)",
    );
  });

  it('checks levels against each codec range', () => {
    expect(() => validateLevel('gzip', 12)).toThrow('compression level 12 is out of range for gzip (1-9)');
    expect(() => validateLevel('none', 1)).toThrow('compression level 1 is out of range for none (only 0)');
    expect(() => validateLevel('zstd', 2.5)).toThrow(UsageError);
    for (const [codec, levels] of Object.entries(CODECS)) {
      expect(() => validateLevel(codec as keyof typeof CODECS, levels.defaultLevel)).not.toThrow();
    }
  });
});
