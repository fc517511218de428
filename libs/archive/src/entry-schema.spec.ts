import { describe, expect, it } from 'vitest';
import { IntegrityError } from '@tresor/errors';
import { dirEntry } from './archive.fixtures.js';
import { parseEntry } from './entry-schema.js';

const file = {
  ...dirEntry('k.pem'),
  type: 'file' as const,
  size: 3,
  sha256: 'a'.repeat(64),
  data: { backupId: 'b1', offset: 0, length: 10, codec: 'zstd' as const },
};

describe('parseEntry', () => {
  it('accepts files, dirs and symlinks', () => {
    expect(parseEntry(file)).toEqual(file);
    expect(parseEntry(dirEntry('d'))).toEqual(dirEntry('d'));
    expect(parseEntry({ ...dirEntry('l'), type: 'symlink', linkTarget: '../outside' }).linkTarget).toBe(
      '../outside',
    );
  });

  it('accepts inode numbers beyond 2^53 and negative mtimes', () => {
    expect(parseEntry({ ...file, ino: 2 ** 60, mtimeNs: '-1000' }).ino).toBe(2 ** 60);
  });

  it.each([
    ['a file without data', { ...file, data: undefined }, /has no sha256 or data reference/],
    ['a dir with content', { ...dirEntry('d'), sha256: 'a'.repeat(64) }, /has content/],
    ['a symlink with a NUL in its target', { ...dirEntry('l'), type: 'symlink', linkTarget: 'a\0b' }, /NUL/],
    ['an unknown codec', { ...file, data: { ...file.data, codec: 'lz4' } }, /data\.codec/],
    ['a bad backup id in a data ref', { ...file, data: { ...file.data, backupId: '..' } }, /data\.backupId/],
    ['a fractional size', { ...file, size: 1.5 }, /size/],
    ['a malformed mtime', { ...file, mtimeNs: '1e9' }, /mtimeNs/],
    ['an upper-case hash', { ...file, sha256: 'A'.repeat(64) }, /sha256/],
    ['an unsafe path', { ...file, path: '../k.pem' }, /unsafe entry path '\.\.\/k\.pem'/],
  ])('rejects %s', (_what, value, message) => {
    expect(() => parseEntry(value)).toThrow(IntegrityError);
    expect(() => parseEntry(value)).toThrow(message);
  });
});
