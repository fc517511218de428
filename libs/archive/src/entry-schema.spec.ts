import { describe, expect, it } from 'vitest';
import { IntegrityError } from '@tresor/errors';
import { dirEntry } from './archive.fixtures.js';
import { entrySchema, parseEntry } from './entry-schema.js';

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

  it('accepts exactly what the schema accepts (the hand-written fast path never lets more through)', () => {
    const variants: unknown[] = [
      file,
      { ...file, ino: 2 ** 60 },
      { ...file, ino: 1.5 },
      { ...file, ino: -1 },
      { ...file, mode: 2 ** 32 },
      { ...file, mode: 2 ** 32 - 1 },
      { ...file, uid: -1 },
      { ...file, gid: Number.NaN },
      { ...file, size: -1 },
      { ...file, size: 2 ** 53 },
      { ...file, size: Infinity },
      { ...file, size: '3' },
      { ...file, mtimeNs: '01' },
      { ...file, mtimeNs: '-0' },
      { ...file, mtimeNs: '1'.repeat(25) },
      { ...file, mtimeNs: '1'.repeat(26) },
      { ...file, mtimeNs: 5 },
      { ...file, sha256: 'a'.repeat(63) },
      { ...file, sha256: undefined },
      { ...file, extra: 1 },
      { ...file, type: 'fifo' },
      { ...file, path: 7 },
      { ...file, linkTarget: 3 },
      { ...file, data: { ...file.data, extra: 1 } },
      { ...file, data: { ...file.data, backupId: 'b'.repeat(128) } },
      { ...file, data: { ...file.data, backupId: 'b'.repeat(129) } },
      { ...file, data: { ...file.data, backupId: '.' } },
      { ...file, data: { ...file.data, backupId: 'a/b' } },
      { ...file, data: { ...file.data, backupId: '' } },
      { ...file, data: { ...file.data, offset: -1 } },
      { ...file, data: { ...file.data, length: 0.5 } },
      { ...file, data: { backupId: 'b1', offset: 0, length: 10 } },
      { ...file, data: null },
      { ...file, data: [] },
      Object.assign(Object.create(null) as object, file),
      null,
      [],
      'entry',
    ];
    for (const value of variants) {
      const accepted = (() => {
        try {
          parseEntry(value);
          return true;
        } catch (err) {
          expect(err).toBeInstanceOf(IntegrityError);
          return false;
        }
      })();
      if (accepted) expect(entrySchema.safeParse(value).success, JSON.stringify(value)).toBe(true);
    }
  });
});
